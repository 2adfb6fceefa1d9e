"""EXIF read and stripped without touching the pixels; the mission's policy on who gets it."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from PIL import Image

from factories import photo_with_exif
from peacewatch.common.media_metadata import keeps_metadata, read_metadata, strip_metadata


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_read_then_strip_losslessly(fmt: str) -> None:
    data = photo_with_exif(fmt)
    meta = read_metadata(data)
    assert meta.has_position and meta.lat == pytest.approx(4.8512, abs=1e-4)
    assert meta.lon == pytest.approx(31.6047, abs=1e-4)
    assert meta.taken_at == datetime(2026, 12, 1, 9, 15) and meta.device == "Rugged Tab 8"
    clean, stripped = strip_metadata(data)
    assert stripped and len(clean) < len(data) and b"Rugged" not in clean
    assert read_metadata(clean) == read_metadata(b"")  # nothing left to say
    with Image.open(io.BytesIO(data)) as before, Image.open(io.BytesIO(clean)) as after:
        assert before.tobytes() == after.tobytes()  # the same pixels: nothing re-encoded


def test_other_files_pass_unchanged_and_say_so() -> None:
    voice = b"#!AMR\n" + bytes(100)
    assert strip_metadata(voice) == (voice, False)
    assert not read_metadata(voice).has_position
    broken = b"\xff\xd8\xff\xe1\x00"  # a JPEG cut inside its first segment
    assert strip_metadata(broken) == (broken, False)


def test_the_mission_policy() -> None:
    assert keeps_metadata("strip_except_protection", confidentiality="restricted")
    assert not keeps_metadata("strip_except_protection", confidentiality="mission")
    assert not keeps_metadata("strip_all", confidentiality="restricted")
    assert keeps_metadata("keep_all", confidentiality="public")
