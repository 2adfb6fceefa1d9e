"""Did it work: for a patrol task made from a coverage gap or hot spot, its cells before and after.

The coverage-gap analysis is rerun on the task's own cells (``hotspots.coverage.covered_cells``,
the same buffer as the gap map) with the patrol routes its viewer may read that ended after the
task was made: a cell a route has since crossed is no longer a gap. Computed when the task is
read, so a patrol report that reaches the server late still counts.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import h3
import numpy as np

from ..access import Principal
from ..hotspots.coverage import DEFAULT_BUFFER_M, covered_cells
from ..hotspots.service import patrol_routes


def gap_result(conn: Any, principal: Principal, row: Any) -> dict[str, Any] | None:
    """``{cells_before, cells_after, closed}`` for a gap or hot-spot task, else None."""
    cells = row["cells"] or []
    if not cells:
        return None
    if row["status"] != "done":
        return {"cells_before": len(cells), "cells_after": None, "closed": None}
    since = np.datetime64(row["created_at"].astimezone(UTC).replace(tzinfo=None), "s")
    routes = [r for r in patrol_routes(conn, principal) if r.end_time >= since]
    ints = np.array([h3.str_to_int(c) for c in cells], dtype=np.uint64)
    left = int((~covered_cells(ints, routes, buffer_m=DEFAULT_BUFFER_M)).sum())
    return {"cells_before": len(cells), "cells_after": left, "closed": left == 0}
