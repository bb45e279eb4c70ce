"""Sending email over SMTP (aiosmtplib)."""
