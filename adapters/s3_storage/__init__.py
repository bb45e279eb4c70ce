"""File storage on S3 (or any S3-compatible service), through obstore."""
