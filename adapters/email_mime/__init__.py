"""The MIME form of the `Mailer` port's message, shared by the mailers that write one (to
a folder, over SMTP)."""
