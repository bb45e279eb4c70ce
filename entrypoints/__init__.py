"""hexmart entrypoints layer."""
