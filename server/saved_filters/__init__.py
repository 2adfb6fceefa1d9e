"""Saved filters of the reports list: per user, server-side, named query strings."""
