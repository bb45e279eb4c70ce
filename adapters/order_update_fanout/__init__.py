"""Handing each live order update to the queues of that order's subscribers, shared by the
`OrderUpdates` adapters (in one process, and through Redis pub/sub)."""
