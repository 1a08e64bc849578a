"""Tendering (issue 9): calls for a project, sealed bids, the committee, scoring, award,
publicity and challenges. ``models`` holds the data and the state machines, ``content``
the sealed bid bundle, ``services`` the permission rules (and, later, the actions)."""
