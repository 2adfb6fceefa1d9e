"""Face blurring for partners whose agreement says ``blur_faces``.

The test photo is drawn here (a face OpenCV's frontal cascade finds, on a striped background that
a blur would visibly change), so nothing is downloaded and nothing depends on a sample image. The
face's region must change a lot, the rest of the photo barely (JPEG re-encoding only), and the
photo that leaves must carry no EXIF, read back with Pillow.
"""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image

from factories import report_body, store
from peacewatch.server.sharing.faces import blur_faces, detect_faces

from .conftest import create_agreement, issue_key, upload, verify

W, H = 800, 480
FACE_X, FACE_Y, FACE_SIZE = 260, 240, 200  # centre and height scale of the drawn face
FACE_BOX = (FACE_X - 110, FACE_Y - 140, FACE_X + 110, FACE_Y + 140)  # x0, y0, x1, y1: the face itself
FAR_RIGHT = 600  # columns from here on are well clear of the face and of the blur's margin


def face_photo(*, fmt: str = "JPEG", exif: bool = True) -> bytes:
    """A photo with one frontal face drawn on a striped background, with GPS and camera EXIF."""
    import cv2

    xs = np.arange(W)[None, :, None]
    ys = np.arange(H)[:, None, None]
    # Stripes and a gradient: detail a blur would wash out, smooth enough that JPEG keeps it.
    background = 150 + 40 * np.sin(xs / 9.0) * np.cos(ys / 13.0) + 20 * (ys / H)
    img = np.clip(np.broadcast_to(background, (H, W, 3)), 0, 255).astype(np.uint8).copy()
    cx, cy, s = FACE_X, FACE_Y, FACE_SIZE
    cv2.ellipse(img, (cx, cy), (int(s * 0.42), int(s * 0.55)), 0, 0, 360, (150, 170, 210), -1)
    for dx in (-1, 1):
        cv2.ellipse(img, (cx + dx * int(s * 0.18), cy - int(s * 0.2)), (int(s * 0.1), int(s * 0.03)), 0, 0, 360,
                    (40, 40, 40), -1)  # eyebrow
        cv2.ellipse(img, (cx + dx * int(s * 0.18), cy - int(s * 0.1)), (int(s * 0.08), int(s * 0.04)), 0, 0, 360,
                    (30, 30, 30), -1)  # eye
    cv2.ellipse(img, (cx, cy + int(s * 0.08)), (int(s * 0.05), int(s * 0.1)), 0, 0, 360, (120, 140, 180), -1)
    cv2.ellipse(img, (cx, cy + int(s * 0.3)), (int(s * 0.15), int(s * 0.04)), 0, 0, 360, (50, 50, 90), -1)
    image = Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F], tags[0x0110] = "TestCam", "Model 7"
        gps = tags.get_ifd(0x8825)
        gps[1], gps[2], gps[3], gps[4] = "N", (1.0, 34.0, 0.12), "E", (30.0, 15.0, 0.0)
        image.save(out, fmt, exif=tags, **({"quality": 95} if fmt == "JPEG" else {}))
    else:
        image.save(out, fmt)
    return out.getvalue()


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float64)


def _no_exif(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        assert len(exif) == 0 and not exif.get_ifd(0x8825) and "exif" not in image.info
        assert not any(k in image.info for k in ("xmp", "XML:com.adobe.xmp", "comment"))


def _check_blurred(before: bytes, after: bytes) -> None:
    a, b = _pixels(before), _pixels(after)
    assert a.shape == b.shape
    x0, y0, x1, y1 = FACE_BOX
    face_change = np.abs(a[y0:y1, x0:x1] - b[y0:y1, x0:x1]).mean()
    rest_change = np.abs(a[:, FAR_RIGHT:] - b[:, FAR_RIGHT:]).mean()
    # Eyes, brows and mouth are gone: the face region moves by tens of levels on average ...
    assert face_change > 12, face_change
    # ... the rest only by JPEG's re-encoding noise.
    assert rest_change < 2.5, rest_change
    # And the blurred face is no longer a face to the cascade (the blurred block's hard edge on the
    # stripes may look like one elsewhere: only the face's own position is checked).
    import cv2

    for x, y, w, h in detect_faces(cv2.cvtColor(b.astype(np.uint8), cv2.COLOR_RGB2BGR)):
        assert not (x < FACE_X < x + w and y < FACE_Y < y + h), (x, y, w, h)


def test_the_drawn_face_is_found() -> None:
    import cv2

    image = cv2.imdecode(np.frombuffer(face_photo(), np.uint8), cv2.IMREAD_COLOR)
    boxes = detect_faces(image)
    assert boxes, "the test photo must hold a face the cascade finds"
    x, y, w, h = boxes[0]
    assert x < FACE_X < x + w and y < FACE_Y < y + h


def test_faces_are_blurred_and_the_rest_is_not() -> None:
    for fmt, media_type in (("JPEG", "image/jpeg"), ("PNG", "image/png")):
        original = face_photo(fmt=fmt)
        blurred, faces = blur_faces(original, media_type)
        assert faces >= 1
        _check_blurred(original, blurred)
        _no_exif(blurred)


def test_a_photo_without_faces_is_returned_as_it_was() -> None:
    blank = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 30)).save(blank, "PNG")
    assert blur_faces(blank.getvalue(), "image/png") == (blank.getvalue(), 0)


def test_partner_receives_the_photo_blurred_and_without_exif(mission) -> None:
    photo = face_photo()
    sha = upload(mission, "patrol_a", photo)
    body = report_body(category="looting", confidentiality="public")
    body["attachments"] = [{"sha256": sha, "size": len(photo), "media_type": "image/jpeg", "name": "p.jpg"}]
    store(mission, "patrol_a", body)
    verify(mission, body["id"])
    agreement = create_agreement(mission, categories=["looting"], attachments=True, blur_faces=True)
    headers = issue_key(mission, agreement["id"])
    feed = mission.client.get("/api/v1/share/ohchr/feed", params={"format": "geojson"}, headers=headers).json()
    [url] = feed["features"][0]["properties"]["attachment_urls"]
    r = mission.client.get(url, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    _check_blurred(photo, r.content)
    _no_exif(r.content)
    audit = mission.client.get("/api/v1/audit", params={"action": "share_delivery"},
                               headers=mission.headers("admin")).json()
    details = [e["detail"] if isinstance(e["detail"], dict) else json.loads(e["detail"]) for e in audit["entries"]]
    photo_entries = [d for d in details if d.get("format") == "attachment"]
    assert photo_entries and photo_entries[0]["faces_blurred"] >= 1

    # Without blur_faces the same partner gets the face as it is (only the metadata stripped).
    r = mission.client.put(f"/api/v1/sharing/agreements/{agreement['id']}", headers=mission.headers("admin"),
                           json={"policy": {"kinds": ["incident"], "categories": ["looting"], "attachments": True}})
    assert r.status_code == 200, r.text
    plain = mission.client.get(url, headers=headers)
    assert plain.status_code == 200
    x0, y0, x1, y1 = FACE_BOX
    assert np.abs(_pixels(plain.content)[y0:y1, x0:x1] - _pixels(photo)[y0:y1, x0:x1]).mean() < 1
    _no_exif(plain.content)


def test_blurring_without_attachments_is_refused_naming_the_field(mission) -> None:
    body = {"partner": "ohchr", "name": "OHCHR", "policy": {"kinds": ["incident"], "blur_faces": True}}
    r = mission.client.post("/api/v1/sharing/agreements", json=body, headers=mission.headers("admin"))
    assert r.status_code == 422 and r.json()["field"] == "policy.blur_faces", r.text
