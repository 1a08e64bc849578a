"""The outbox: every email leaves the system through it."""
