"""Where the dashboard's front-end libraries come from: Python packages, so ``pip install`` brings them.

Leaflet ships inside the ``xstatic-leaflet`` distribution (the XStatic packaging standard: a
JavaScript library's release files as package data), so a server installed with plain ``pip``
serves a working map page with no Node, npm or CDN.
"""

from __future__ import annotations

from pathlib import Path

import xstatic.pkg.leaflet as _leaflet

# URL name -> folder whose files are served under ``/static/vendor/<name>/``.
VENDOR: dict[str, Path] = {"leaflet": Path(_leaflet.BASE_DIR)}
