"""Where the front-end libraries installed by ``npm ci --prefix server/web/frontend`` are, and whether they are."""

from __future__ import annotations

from pathlib import Path

NODE_MODULES = Path(__file__).with_name("frontend") / "node_modules"
# URL name -> the ``dist`` folder of an npm package (only what the pages load is exposed).
VENDOR = {"leaflet": NODE_MODULES / "leaflet" / "dist",
          "markercluster": NODE_MODULES / "leaflet.markercluster" / "dist"}
INSTALL_COMMAND = "npm ci --prefix server/web/frontend"


def vendor_installed() -> bool:
    return (VENDOR["leaflet"] / "leaflet.js").exists() and (VENDOR["markercluster"] / "leaflet.markercluster.js").exists()
