"""One controller per resource of the HTTP API."""
