"""The HTTP API (Litestar): `create_app(container)` in `entrypoints.http.app`."""
