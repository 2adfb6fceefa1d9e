"""Tablet enrolment with one-time codes, device credentials, revocation."""
