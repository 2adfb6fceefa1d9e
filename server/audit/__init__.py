"""Append-only, hash-chained audit log: who did what, and proof that no entry was altered."""
