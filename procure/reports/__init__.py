"""Reports for finance officers (DOMAIN.md §7): web page, xlsx, PDF, command line."""
