"""Administration: users, departments, outbox, policy values, audit trail."""
