"""`nox -s bench`: hexmart measured beside the limits of the same machine (issue 7).

Run with `python -m benchmarks.run`; nothing here is collected by the test suite."""
