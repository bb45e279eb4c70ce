"""Time and identifiers: the system's for running, controllable ones for tests."""
