"""Test doubles for the ports: in-memory repositories and unit of work, a mailer that keeps
what it sends, a payment gateway a test drives, a task queue that records jobs, in-memory
file storage. Nothing in a running shop uses them; `entrypoints.testing` builds a shop
on them for tests, this project's and other programs'."""
