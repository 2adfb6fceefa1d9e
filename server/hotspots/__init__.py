"""The hotspot engine: H3 grid, Gi* with exact count tails and FDR, emerging hotspots, coverage gaps, GeoJSON/CSV output."""
