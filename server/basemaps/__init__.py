"""Offline base maps: MBTiles/PMTiles import, tile serving, tablet tile packages, the demo map."""
