"""hexmart domain layer."""
