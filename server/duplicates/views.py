"""Routes: duplicate proposals (list, confirm, dismiss) and consolidated incidents (read, overrides, unmerge)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query

from ..deps import Analyst, EngineDep, ReadConn, WriteConn
from ..input_checks import INT64_MAX
from . import service
from .backlog import ensure_current
from .models import IncidentOut, Overrides, ProposalOut, ProposalPage, ProposalStatus

router = APIRouter(tags=["duplicates"])
log = logging.getLogger(__name__)


def current_proposals(engine: EngineDep) -> None:
    """Route dependency: catch proposals up before the route opens its read transaction.

    A failure here is logged and the list served as it stands: a bug in the derived data must
    not also hide the proposals already made.
    """
    try:
        ensure_current(engine)
    except Exception:  # noqa: BLE001 - see docstring
        log.exception("catching up duplicate proposals failed; serving the proposals as they stand")


ProposalId = Annotated[int, Path(ge=1, le=INT64_MAX)]


@router.get("/duplicates", dependencies=[Depends(current_proposals)], response_model=ProposalPage)
def list_duplicates(conn: ReadConn, me: Analyst, status: ProposalStatus = "proposed",
                    limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=INT64_MAX)) -> dict[str, Any]:
    """Proposed duplicate pairs you may read (both reports), best score first, with their reasons."""
    return service.list_proposals(conn, me, status=status, limit=limit, offset=offset)


@router.get("/duplicates/{proposal_id}", dependencies=[Depends(current_proposals)], response_model=ProposalOut)
def get_duplicate(proposal_id: ProposalId, conn: ReadConn, me: Analyst) -> dict[str, Any]:
    """One proposal with its reasons and both reports' summaries."""
    return service.get_proposal(conn, me, proposal_id)


@router.post("/duplicates/{proposal_id}/confirm", status_code=201, response_model=IncidentOut)
def confirm(proposal_id: ProposalId, conn: WriteConn, me: Analyst,
            request: Overrides | None = Body(default=None)) -> dict[str, Any]:
    """Merge the pair into one consolidated incident keeping every source (optionally with overrides)."""
    return service.confirm(conn, me, proposal_id=proposal_id, overrides=request.overrides if request else None)


@router.post("/duplicates/{proposal_id}/dismiss", response_model=ProposalOut)
def dismiss(proposal_id: ProposalId, conn: WriteConn, me: Analyst) -> dict[str, Any]:
    """Not the same event: the pair is closed and never proposed again."""
    return service.dismiss(conn, me, proposal_id=proposal_id)


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
def get_incident(incident_id: str, conn: ReadConn, me: Analyst) -> dict[str, Any]:
    """A consolidated incident: the sources you may read, agreed and disagreeing facts, values."""
    return service.get_incident(conn, me, incident_id)


@router.put("/incidents/{incident_id}/overrides", response_model=IncidentOut)
def set_overrides(incident_id: str, request: Overrides, conn: WriteConn, me: Analyst) -> dict[str, Any]:
    """Replace HQ's picked or typed consolidated values; the sources stay as they are."""
    return service.set_overrides(conn, me, incident_id=incident_id, overrides=request.overrides)


@router.post("/incidents/{incident_id}/unmerge", response_model=IncidentOut)
def unmerge(incident_id: str, conn: WriteConn, me: Analyst) -> dict[str, Any]:
    """Undo a consolidation: every source is restored exactly, its proposals open again."""
    return service.unmerge(conn, me, incident_id=incident_id)
