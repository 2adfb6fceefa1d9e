"""Shared report schema, taxonomy, coordinates, time and i18n used by server and app."""
