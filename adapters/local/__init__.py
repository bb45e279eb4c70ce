"""The embedded default's adapters that work on this machine: files, folders, in-process."""
