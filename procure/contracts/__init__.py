"""Contracts (issue 10): drafted from a final award, rendered to PDF by a worker, signed
by both parties with PAdES signatures, versioned; signing commits the money in the
ledger. ``models`` holds the data and the machines, ``services`` the rules and actions,
``rendering`` the PDF, ``verification`` the public check of a copy."""
