"""Social organizations (社会组织): the registry (minimal in the foundation)."""
