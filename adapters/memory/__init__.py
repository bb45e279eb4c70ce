"""In-process adapters: the embedded default for caches and queues, and the test doubles."""
