"""The task queue on Redis with arq: jobs for the worker in entrypoints/worker.py."""
