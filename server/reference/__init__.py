"""Reference data pulled by devices: place names, sensitive sites, mission area, admin boundaries."""
