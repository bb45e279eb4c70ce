"""How hexmart connects to Redis, shared by every adapter that opens a connection to it
(the Redis stores and the arq task queue)."""
