"""The tile chunk format both sides speak: what the server encodes, the tablet decodes back."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from peacewatch.common.tile_chunks import decode_chunk, encode_chunk


@st.composite
def tiles(draw: st.DrawFn) -> list[tuple[int, int, int, bytes]]:
    z = draw(st.integers(0, 18))
    cells = draw(st.sets(st.tuples(st.integers(0, (1 << z) - 1), st.integers(0, (1 << z) - 1)), max_size=16))
    return [(z, x, y, draw(st.binary(max_size=64))) for x, y in cells]


@given(tiles())
def test_a_chunk_decodes_to_its_tiles_and_equal_content_names_it_equally(chunk: list) -> None:
    data = encode_chunk(chunk)
    assert sorted(decode_chunk(data)) == sorted(chunk)
    assert hashlib.sha256(encode_chunk(list(reversed(chunk)))).digest() == hashlib.sha256(data).digest()
