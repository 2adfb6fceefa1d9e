"""Geographic facts every domain shares: the H3 cell a report is stored with.

The ``reports`` projection stores each report's H3 cell (v4, integer form) at
``STORED_RESOLUTION`` so hotspot maps count in SQL; the projection (reports domain) computes it
and the hotspot engine reads it, so the rule lives here, below both.
"""

from __future__ import annotations

import h3.api.basic_int as h3i

# The resolution of the cell stored with every report (``reports.h3_res8``); maps at this
# resolution or coarser are counted in SQL from it, finer ones bin the points.
STORED_RESOLUTION = 8


def report_cell(lat: float | None, lon: float | None) -> int | None:
    """The stored cell of a report position (``STORED_RESOLUTION``), None without a position."""
    if lat is None or lon is None:
        return None
    return int(h3i.latlng_to_cell(lat, lon, STORED_RESOLUTION))
