"""Password hashing (argon2id, legacy bcrypt) and signed access tokens (JWT)."""
