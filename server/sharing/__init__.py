"""Sharing by agreement: partners receive exactly what the mission agreed to share with them."""
