"""Exports from the database for one principal: what they may see, filtered, audited, streamed.

The records come from ``reports.service.iter_records`` (the access policy's ``visible_clause`` in
SQL and ``redact`` on every body), so an export never holds more than the caller may read, and
authors become pseudonymous reporter ids (``pseudonyms``): a file that leaves names no patrol member. The
PDF's map also gets the mission's place names (reference data) and, for roles that may analyse,
the Gi* hotspot hexagons of the same visible, filtered reports.

`stream` takes an Engine rather than a Connection, unlike other services: a streamed response
outlives the request's transaction, so the stream opens its own read transaction and closes it
when the last byte is sent (or the client goes away).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from peacewatch.server.access import Permission, Principal
from peacewatch.server.audit.service import record
from peacewatch.server.exports.filters import ExportFilters
from peacewatch.server.exports.formats import FORMATS, render
from peacewatch.server.exports.i18n import check_lang
from peacewatch.server.exports.pseudonyms import ensure_key, mission_key, pseudonymise
from peacewatch.server.problems import Problem, forbidden
from peacewatch.server.reference.service import list_items
from peacewatch.server.reports.service import iter_records
from peacewatch.server.subscriptions import catch_up_readers

__all__ = ["audit_export", "check_may_export", "hotspot_cells", "place_names", "stream"]


def place_names(conn: Connection, *, lang: str) -> list[dict[str, Any]]:
    """Reference place names as ``{name, lat, lon}`` in `lang` (else English, else any)."""
    out = []
    for item in list_items(conn, kind="place")["items"]:
        geometry = item.get("geometry") or {}
        if geometry.get("type") != "Point":
            continue
        names = item.get("names") or {}
        name = names.get(lang) or names.get("en") or next(iter(names.values()), "")
        lon, lat = geometry["coordinates"][:2]
        out.append({"name": name, "lat": lat, "lon": lon})
    return out


def hotspot_cells(conn: Connection, *, principal: Principal, filters: ExportFilters,
                  cache: Any = None) -> list[Mapping[str, Any]]:
    """Gi* hexagons (GeoJSON features with ``bin``) for the PDF map; none for roles that may not
    analyse (hotspots are an HQ tool) or when too few located reports match to compute them."""
    if not principal.may(Permission.ANALYSE):
        return []
    # numpy, scipy and shapely (seconds, see server/cli.py): only an analyst's PDF needs them.
    from peacewatch.server.hotspots import service as hotspots
    from peacewatch.server.hotspots.grid import DEFAULT_RESOLUTION

    params = hotspots.HotspotParams(resolution=DEFAULT_RESOLUTION)  # k chosen from the data, as the API does
    try:
        fc = hotspots.hotspots(conn, principal=principal, filters=filters, params=params,
                               cache=cache if cache is not None else hotspots.HotspotCache())
    except Problem:
        return []  # e.g. no located reports: the map is still drawn, without hexagons
    return list(fc.get("features") or [])


def check_may_export(principal: Principal) -> None:
    """Refuse a role that may not export (the API's ``Exporter`` dependency does this for routes)."""
    if not principal.may(Permission.EXPORT):
        raise forbidden(f"the {principal.role.value} role may not export")


def audit_export(conn: Connection, *, principal: Principal, fmt: str, filters: ExportFilters, lang: str) -> None:
    """Write the export to the audit log: who, which format, which filters, which language.

    The search text itself is not written: it is often a victim's or witness's name, and the admin
    who reads the audit log may not read those. The entry says a search was made, not for what.
    """
    check_may_export(principal)
    ensure_key(conn)  # written here, in the request's write transaction, so the stream only reads it
    described = filters.describe()
    searched = described.pop("q", None) is not None
    record(conn, action="export", actor=principal.username, actor_user_id=principal.user_id,
           device_id=principal.device_id, target=fmt,
           detail={"filters": described, "text_search": searched, "lang": lang})


def stream(
    engine: Engine,
    *,
    principal: Principal,
    fmt: str,
    filters: ExportFilters,
    lang: str = "en",
    bom: bool = False,
    places: Sequence[Mapping[str, Any]] = (),
    hexagons: Sequence[Mapping[str, Any]] = (),
    progress: Any = None,
    background: Any = None,
) -> Iterator[bytes]:
    """The export's bytes; `progress`, if given, is called with the number of records read so far."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    check_may_export(principal)
    check_lang(lang)
    catch_up_readers(engine)  # the reports projection, current with every stored version
    key = mission_key(engine)
    with engine.connect() as conn, conn.begin():
        records: Iterator[dict[str, Any]] = pseudonymise(iter_records(conn, principal, filters), key)
        if progress is not None:
            records = _counting(records, progress)
        response = response_times(conn, principal, filters) if fmt == "pdf" else None
        yield from render(fmt, records, lang=lang, filters=filters, places=places, hexagons=hexagons, bom=bom,
                          background=background, response=response)


def response_times(conn: Connection, principal: Principal, filters: ExportFilters) -> dict[str, Any]:
    """The PDF's alert response times: per rule and per contingent, over the alerts the reader may
    see (``alerts.metrics``, under ``alerts.visibility``) raised since the period's start."""
    from peacewatch.server.alerts import metrics

    since = filters.start
    return {"since": since, **{by: metrics.response_times(conn, principal, by=by, since=since)["items"]
                               for by in ("rule", "contingent")}}


def _counting(records: Iterator[dict[str, Any]], progress: Any) -> Iterator[dict[str, Any]]:
    for n, item in enumerate(records, start=1):
        if n % 500 == 0:
            progress(n)
        yield item


