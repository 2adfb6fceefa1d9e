"""What a photo says about itself (EXIF: where, when, which device), and removing it losslessly.

Shared by the tablet (read on the device, offer the photo's position to the report, strip before
the photo leaves) and the server (partner sharing strips what a partner may not receive).

- :func:`read_metadata` reads EXIF with Pillow: GPS position, time taken, camera make and model.
- :func:`strip_metadata` removes metadata without re-encoding the image: from a JPEG the APP1
  (EXIF, XMP), APP13 (IPTC) and COM segments, from a PNG the eXIf and text chunks. The pixels
  are untouched byte for byte; any other type is returned as is and reported as not stripped.
- :func:`keeps_metadata` is the mission's policy: who may receive a photo with its metadata.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Policy = Literal["strip_except_protection", "strip_all", "keep_all"]
DEFAULT_POLICY: Policy = "strip_except_protection"

_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_MAKE, _MODEL = 0x010F, 0x0110
# JPEG segments that carry metadata: APP1 (EXIF, XMP), APP13 (IPTC), COM (comments). APP2 (the ICC
# colour profile) is kept: it changes how the pixels look, and says nothing about where or who.
_JPEG_DROP = {0xE1, 0xED, 0xFE}
_PNG_DROP = {b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class PhotoMetadata:
    """What the file says; every field None when it does not say."""

    lat: float | None = None
    lon: float | None = None
    taken_at: datetime | None = None
    device: str | None = None

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None


def _degrees(value: tuple[float, float, float], ref: str) -> float:
    d, m, s = (float(x) for x in value)
    sign = -1.0 if ref in ("S", "W") else 1.0
    return sign * (d + m / 60.0 + s / 3600.0)


def read_metadata(data: bytes) -> PhotoMetadata:
    """EXIF of an image (any format Pillow reads); empty metadata for anything else."""
    # Pillow (~35 ms to import here) is loaded on the first photo, not at the tablet's start.
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
    except (UnidentifiedImageError, OSError, ValueError):
        return PhotoMetadata()
    lat = lon = None
    gps = exif.get_ifd(_GPS_IFD)
    try:
        if gps.get(2) and gps.get(4):
            lat, lon = _degrees(gps[2], str(gps.get(1, "N"))), _degrees(gps[4], str(gps.get(3, "E")))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                lat = lon = None
    except (TypeError, ValueError, ZeroDivisionError):
        lat = lon = None
    taken = None
    raw_time = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL)
    if isinstance(raw_time, str):
        try:
            taken = datetime.strptime(raw_time.strip(), "%Y:%m:%d %H:%M:%S")
        except ValueError:
            taken = None
    device = " ".join(str(exif[t]).strip() for t in (_MAKE, _MODEL) if exif.get(t)) or None
    return PhotoMetadata(lat, lon, taken, device)


def _strip_jpeg(data: bytes) -> bytes:
    out = bytearray(data[:2])
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ValueError("not a JPEG segment boundary")
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the compressed image follows, copied as is
            out += data[i:]
            return bytes(out)
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        segment = data[i:i + 2 + length]
        if marker not in _JPEG_DROP:
            out += segment
        i += 2 + length
    raise ValueError("JPEG without image data")


def _strip_png(data: bytes) -> bytes:
    out = bytearray(_PNG_SIGNATURE)
    i = len(_PNG_SIGNATURE)
    while i + 12 <= len(data):
        length = struct.unpack(">I", data[i:i + 4])[0]
        kind = data[i + 4:i + 8]
        chunk = data[i:i + 12 + length]
        if kind not in _PNG_DROP:
            out += chunk
        i += 12 + length
        if kind == b"IEND":
            return bytes(out)
    raise ValueError("PNG without IEND")


def strip_metadata(data: bytes) -> tuple[bytes, bool]:
    """(bytes without metadata, True) for JPEG and PNG; (the bytes as they were, False) otherwise."""
    try:
        if data[:3] == b"\xff\xd8\xff":
            return _strip_jpeg(data), True
        if data.startswith(_PNG_SIGNATURE):
            return _strip_png(data), True
    except (ValueError, struct.error):
        return data, False
    return data, False


def keeps_metadata(policy: Policy, *, confidentiality: str) -> bool:
    """Whether a photo may leave with its metadata under the mission's ``policy``.

    ``strip_except_protection``: only photos of restricted reports (read by the protection team
    alone, who verify where and when a photo was taken) keep it; every other reader gets it
    stripped, since a position or a device name can identify a victim, a witness or the patrol.
    """
    if policy == "keep_all":
        return True
    if policy == "strip_all":
        return False
    return confidentiality == "restricted"
