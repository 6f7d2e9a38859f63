"""Repositories: the only code that reads or writes the database. Each takes a Session."""
