"""Accounts: users, roles, departments, login, passwords."""
