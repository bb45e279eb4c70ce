"""msgspec structs for every request and response body, one module per resource.

Request bodies forbid unknown fields, so a client cannot set a field it does not own
(`role`, `price` on someone else's behalf, `status`, `user_id`, ...).
"""
