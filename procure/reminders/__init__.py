"""Reminders: rules that find dated obligations and write emails and in-app notices."""
