"""hexmart application layer."""
