"""The bytes of a base-map tile chunk, written by the server and read by the tablet.

A chunk is one metatile's tiles as repeated records: ``>BIII`` (zoom, x, y in the XYZ scheme,
length) then the tile's bytes, in (x, y) order so that equal content gives equal bytes and so an
equal SHA-256, the chunk's name. See ``server/basemaps/packages.py`` for how chunks are cut.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

RECORD = struct.Struct(">BIII")  # zoom, x, y (XYZ), length; then the tile's bytes
MAX_ZOOM = 30

Tile = tuple[int, int, int, bytes]


def encode_chunk(tiles: Iterable[Tile]) -> bytes:
    """The chunk bytes of ``(z, x, y, data)`` tiles, in (x, y) order so equal content hashes equally."""
    out = bytearray()
    for z, x, y, data in sorted(tiles, key=lambda t: (t[1], t[2])):
        out += RECORD.pack(z, x, y, len(data))
        out += data
    return bytes(out)


def decode_chunk(data: bytes) -> Iterator[Tile]:
    """The ``(z, x, y, tile bytes)`` records of a chunk; ``ValueError`` if it is truncated or a
    record names a tile that cannot exist (a zoom past 30, x or y beyond the zoom's grid)."""
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        if pos + RECORD.size > len(view):
            raise ValueError("truncated tile chunk")
        z, x, y, n = RECORD.unpack_from(view, pos)
        pos += RECORD.size
        if pos + n > len(view) or z > MAX_ZOOM or x >= (1 << z) or y >= (1 << z):
            raise ValueError("malformed tile chunk")
        yield z, x, y, bytes(view[pos:pos + n])
        pos += n
