"""Routes: which chunks are missing, upload a chunk, commit a file's manifest, download a file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection

from ..deps import ReadConn, Reader, SettingsDep, Submitter, WriteConn, write_conn
from ..problems import Code, Problem
from . import service
from .models import SHA256, ChunkStored, CommitRequest, FileCommitted, Missing, MissingRequest

router = APIRouter(tags=["attachments"])

ShaPath = Annotated[str, Path(pattern=SHA256, description="SHA-256 of the bytes, 64 lowercase hex digits")]
# The download's audit entry (restricted content) must commit before the bytes stream, so the write
# transaction is not held open (blocking other writers on SQLite) while a large file is sent.
ShortWriteConn = Annotated[Connection, Depends(write_conn, scope="function")]


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


@router.post("/attachments/missing", response_model=Missing)
def missing(query: MissingRequest, conn: ReadConn, settings: SettingsDep, me: Submitter) -> dict:
    """Which of these chunks you have not sent yet (send only those; another user's copy does not count)."""
    return {"missing": service.missing_chunks(conn, me, root=settings.attachments_dir, hashes=query.chunks)}


@router.put("/chunks/{sha256}", status_code=201, response_model=ChunkStored,
            openapi_extra={"requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                              "format": "binary"}}}}})
def put_chunk(sha256: ShaPath, me: Submitter, data: Annotated[bytes, Depends(chunk_bytes)], conn: WriteConn,
              settings: SettingsDep, response: Response) -> dict:
    """Upload one chunk (raw bytes named by their SHA-256): 201 stored, 200 you sent it before."""
    out = service.put_chunk(conn, me, root=settings.attachments_dir, sha256=sha256, data=data)
    if out["status"] == service.DUPLICATE:
        response.status_code = 200
    return out


@router.post("/attachments/{sha256}", status_code=201, response_model=FileCommitted)
def commit(sha256: ShaPath, manifest: CommitRequest, conn: WriteConn, settings: SettingsDep, me: Submitter,
           response: Response) -> dict:
    """Commit a file from chunks you sent (checked against sha256 and size): 201 committed, 200 you did before."""
    out = service.commit(conn, me, root=settings.attachments_dir, sha256=sha256, chunk_hashes=manifest.chunks,
                         size=manifest.size, media_type=manifest.media_type)
    if out["status"] == service.DUPLICATE:
        response.status_code = 200
    return out


@router.get("/attachments/{sha256}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
def download(sha256: ShaPath, me: Reader, conn: ShortWriteConn, settings: SettingsDep) -> StreamingResponse:
    """The file's bytes if a report version you may read legitimately references it; JPEG/PNG/WebP inline."""
    dl = service.open_download(conn, me, root=settings.attachments_dir, sha256=sha256)
    return StreamingResponse(dl.iter_bytes(), media_type=dl.media_type, headers=service.download_headers(dl))
