"""Reminders: rules that find dated obligations and tell the people concerned (through
``notifications.notify``)."""
