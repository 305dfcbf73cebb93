"""Persistence: every SQL statement of the service layer, as a named function taking
the use case's Session."""
