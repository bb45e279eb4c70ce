"""The embedded default's adapters: everything `./dev serve` needs beyond SQLite, kept in
this process or on this machine (caches, rate limits, tokens, live order updates, worker
heartbeats, the in-process task runner, mail written to a folder, files on disk)."""
