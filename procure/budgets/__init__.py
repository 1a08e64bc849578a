"""Budgets: funding sources, appropriations, allocations, the money ledger, reports."""
