"""Closing and archive (issue 11 item 8, DOMAIN.md §5): an officer closes a project whose
contract is completed and paid, or terminated and settled; nothing in a closed project can
be changed or deleted afterwards (``projects.services.ensure_open`` in the services, and
the flush guard of :mod:`.guard` behind them); its records are kept at least 15 years
(policy ``records.retention_years``), and the archive lists closed projects with their
documents. Sits above payments in the layers: it reads every delivery table."""
