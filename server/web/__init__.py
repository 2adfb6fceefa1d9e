"""The HQ dashboard: server-rendered pages (Jinja2) and a Leaflet map, served by the mission server at ``/``."""
