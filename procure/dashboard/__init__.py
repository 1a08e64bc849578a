"""The per-role dashboard: what waits for this user."""
