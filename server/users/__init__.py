"""Contingents and users: who belongs where, with which role."""
