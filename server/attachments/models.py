"""Requests and answers of the attachment routes (chunks, manifests)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ..answers import Answer

SHA256 = r"^[0-9a-f]{64}$"
Sha = Annotated[str, Field(pattern=SHA256)]
MAX_MISSING_QUERY = 10_000
MAX_MANIFEST_CHUNKS = 10_000


class MissingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chunks: list[Sha] = Field(max_length=MAX_MISSING_QUERY)


class CommitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chunks: list[Sha] = Field(max_length=MAX_MANIFEST_CHUNKS, description="Chunk hashes in file order")
    size: int = Field(ge=0, le=2**53, description="The whole file's size in bytes")
    media_type: str = Field(pattern=r"^[A-Za-z0-9][\w.+-]*/[\w.+-]+$", max_length=100, examples=["image/jpeg"])


class Missing(Answer):
    missing: list[str] = Field(description="The chunks the server lacks, in the order asked, without repeats")


class ChunkStored(Answer):
    sha256: str
    size: int
    status: str = Field(description="stored (201) or duplicate (200)")


class FileCommitted(Answer):
    sha256: str
    size: int
    media_type: str
    status: str = Field(description="stored (201) or duplicate (200)")
