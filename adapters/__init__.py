"""hexmart adapters layer."""
