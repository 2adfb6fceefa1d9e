"""Blurring faces in a photo before it goes to a partner whose agreement says ``blur_faces``.

This module owns finding faces (OpenCV's shipped Haar cascades: frontal faces, and profiles
facing either way) and blurring them, and nothing else: which photos go, and removing their
metadata, stay with ``feed`` and ``common.media_metadata``. `blur_faces` takes the image's bytes
and returns new bytes with every detected face (plus a margin) blurred beyond recognition, or the
input unchanged when no face is found (so a photo without faces keeps its pixels byte for byte).

A blurred photo is re-encoded by OpenCV, which writes no EXIF, XMP or text chunks; the result is
also passed through `strip_metadata` so nothing of the original's metadata can survive a change
of encoder.

The cascades find upright faces seen from the front or the side. They miss small, turned-away,
tilted or partly hidden faces: blurring reduces the risk, it does not remove it (docs/sharing.md).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from peacewatch.common.media_metadata import strip_metadata

# Detection runs on a copy at most this many pixels on its longest side: a 12-megapixel photo
# would take seconds per cascade, and a face too small to be found at this scale is a few pixels.
DETECT_MAX_SIDE = 1600
# Around each detected box: hair, ears and chin fall outside the cascade's box.
MARGIN = 0.25
MIN_FACE_PX = 20
_CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")


class FaceBlurError(ValueError):
    """The image could not be decoded or re-encoded: it must not leave unblurred."""


@cache
def _classifiers() -> tuple[Any, ...]:
    # OpenCV (~100 ms to import, and the cascades' XML to parse) is loaded on the first blurred photo,
    # not when the server starts.
    import cv2

    out = []
    for name in _CASCADES:
        classifier = cv2.CascadeClassifier(cv2.data.haarcascades + name)
        if classifier.empty():
            raise RuntimeError(f"OpenCV's {name} is missing: opencv-python-headless 4.x ships it")
        out.append(classifier)
    return tuple(out)


def detect_faces(image: Any) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) of the faces in a BGR image (numpy array), in its own pixels."""
    import cv2

    height, width = image.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(height, width))
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if scale < 1.0:
        grey = cv2.resize(grey, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)  # the cascades were trained on normalised contrast
    frontal, profile = _classifiers()
    found: list[tuple[int, int, int, int]] = []
    size = (MIN_FACE_PX, MIN_FACE_PX)
    found += [tuple(b) for b in frontal.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=size)]
    found += [tuple(b) for b in profile.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=size)]
    # The profile cascade knows faces looking one way; mirrored, it finds those looking the other.
    mirrored = cv2.flip(grey, 1)
    gw = grey.shape[1]
    found += [(gw - x - w, y, w, h)
              for x, y, w, h in profile.detectMultiScale(mirrored, scaleFactor=1.1, minNeighbors=5, minSize=size)]
    return [(round(x / scale), round(y / scale), round(w / scale), round(h / scale)) for x, y, w, h in found]


def _blur_boxes(image: Any, boxes: list[tuple[int, int, int, int]]) -> Any:
    import cv2

    height, width = image.shape[:2]
    out = image.copy()
    for x, y, w, h in boxes:
        dx, dy = round(w * MARGIN), round(h * MARGIN)
        x0, y0, x1, y1 = max(0, x - dx), max(0, y - dy), min(width, x + w + dx), min(height, y + h + dy)
        region = out[y0:y1, x0:x1]
        # Pixelate to an 8x8 mosaic, then blur the mosaic: a blur alone can be partly undone
        # (deconvolution); what the mosaic throws away cannot.
        small = cv2.resize(region, (8, 8), interpolation=cv2.INTER_AREA)
        coarse = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        k = max(3, (min(x1 - x0, y1 - y0) // 4) | 1)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(coarse, (k, k), 0)
    return out


def blur_faces(data: bytes, media_type: str) -> tuple[bytes, int]:
    """The image with its faces blurred, and how many faces were found (0: `data` as given).

    Raises `FaceBlurError` for an image OpenCV cannot read or write (it must then not be shared).
    """
    import cv2
    import numpy as np

    # IMREAD_COLOR applies the EXIF orientation, so the pixels come out upright: the re-encoded
    # photo carries no orientation tag, and the cascades only find upright faces.
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise FaceBlurError("the image cannot be decoded")
    boxes = detect_faces(image)
    if not boxes:
        return data, 0
    ext, params = (".png", []) if media_type == "image/png" else (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 90])
    ok, encoded = cv2.imencode(ext, _blur_boxes(image, boxes), params)
    if not ok:
        raise FaceBlurError("the blurred image cannot be encoded")
    out, stripped = strip_metadata(encoded.tobytes())
    if not stripped:
        raise FaceBlurError("the blurred image's metadata cannot be checked")
    return out, len(boxes)
