"""Delivery (issue 11): milestone reports (进度报告) with indicator actuals, narrative,
evidence and spending lines, the officer's review with a revision loop, and the
project's spending against the approved budget breakdown. ``models`` holds the data and
the report machine."""
