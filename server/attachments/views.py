"""Routes: which chunks are missing, upload a chunk, commit a file's manifest, download a file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from ..deps import ReadConn, Reader, SettingsDep, Submitter, WriteConn, write_conn
from ..problems import Code, Problem
from . import service

router = APIRouter(tags=["attachments"])

SHA256 = r"^[0-9a-f]{64}$"
ShaPath = Annotated[str, Path(pattern=SHA256, description="SHA-256 of the bytes, 64 lowercase hex digits")]
Sha = Annotated[str, Field(pattern=SHA256)]
MAX_MISSING_QUERY = 10_000
MAX_MANIFEST_CHUNKS = 10_000
# The download's audit entry (restricted content) must commit before the bytes stream, so the write
# transaction is not held open (blocking other writers on SQLite) while a large file is sent.
ShortWriteConn = Annotated[Connection, Depends(write_conn, scope="function")]


class MissingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chunks: list[Sha] = Field(max_length=MAX_MISSING_QUERY)


class CommitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chunks: list[Sha] = Field(max_length=MAX_MANIFEST_CHUNKS, description="Chunk hashes in file order")
    size: int = Field(ge=0, le=2**53, description="The whole file's size in bytes")
    media_type: str = Field(pattern=r"^[A-Za-z0-9][\w.+-]*/[\w.+-]+$", max_length=100, examples=["image/jpeg"])


async def chunk_bytes(request: Request, settings: SettingsDep) -> bytes:
    """The raw request body, refused past ``settings.max_chunk_bytes`` without reading it all."""
    content_type = request.headers.get("content-type", "application/octet-stream").split(";")[0].strip().lower()
    if content_type != "application/octet-stream":
        raise Problem(Code.UNSUPPORTED_MEDIA_TYPE, "send chunk bytes as application/octet-stream",
                      field="content-type")
    limit = settings.max_chunk_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Problem(Code.BODY_TOO_LARGE, f"a chunk is at most {limit} bytes")
    buf = bytearray()
    async for part in request.stream():
        buf += part
        if len(buf) > limit:
            raise Problem(Code.BODY_TOO_LARGE, f"a chunk is at most {limit} bytes")
    return bytes(buf)


@router.post("/attachments/missing")
def missing(query: MissingRequest, conn: ReadConn, settings: SettingsDep, _: Submitter) -> dict:
    """Which of these chunk hashes the server lacks (send only those)."""
    return {"missing": service.missing_chunks(conn, root=settings.attachments_dir, hashes=query.chunks)}


@router.put("/chunks/{sha256}", status_code=201,
            openapi_extra={"requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                              "format": "binary"}}}}})
def put_chunk(sha256: ShaPath, _: Submitter, data: Annotated[bytes, Depends(chunk_bytes)], conn: WriteConn,
              settings: SettingsDep, response: Response) -> dict:
    """Upload one chunk (raw bytes named by their SHA-256): 201 stored, 200 already here."""
    out = service.put_chunk(conn, root=settings.attachments_dir, sha256=sha256, data=data)
    if out["status"] == service.DUPLICATE:
        response.status_code = 200
    return out


@router.post("/attachments/{sha256}", status_code=201)
def commit(sha256: ShaPath, manifest: CommitRequest, conn: WriteConn, settings: SettingsDep, me: Submitter,
           response: Response) -> dict:
    """Commit a file from its chunks (checked against sha256 and size): 201 committed, 200 already committed."""
    out = service.commit(conn, me, root=settings.attachments_dir, sha256=sha256, chunk_hashes=manifest.chunks,
                         size=manifest.size, media_type=manifest.media_type)
    if out["status"] == service.DUPLICATE:
        response.status_code = 200
    return out


@router.get("/attachments/{sha256}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
def download(sha256: ShaPath, me: Reader, conn: ShortWriteConn, settings: SettingsDep) -> StreamingResponse:
    """The file's bytes, streamed, if you may read a report that references it (or you uploaded it)."""
    dl = service.open_download(conn, me, root=settings.attachments_dir, sha256=sha256)
    headers = {
        "Content-Length": str(dl.size),
        "ETag": f'"{dl.sha256}"',
        "Cache-Control": "private, max-age=31536000, immutable",
        # Uploaded bytes are untrusted: never let them run as a page of this origin.
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": "inline" if dl.inline else f'attachment; filename="{dl.sha256}"',
    }
    media_type = dl.media_type if dl.inline else "application/octet-stream"
    return StreamingResponse(dl.iter_bytes(), media_type=media_type, headers=headers)
