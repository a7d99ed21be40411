"""Services: the library calls behind each command (ingest, ...), free of any CLI code."""
