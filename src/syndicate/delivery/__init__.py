"""Delivering the newsletter: subscribers, backends (SMTP, outbox), the journal, exactly once."""
