"""KML export (simplekml) for Google Earth and GIS tools: points for incidents and human-rights
concerns, lines for patrol routes, one shared style per category, an HTML description per report.

Every text that reaches the file is escaped here and simplekml's own escaping is switched off
(`parsetext(False)`): simplekml leaves anything inside ``<![CDATA[`` unescaped, so a report title
typed in the field could otherwise break or inject into the document. KML is an XML tree built in
memory by simplekml, so this format is not constant-memory like CSV and GeoJSON.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import simplekml

from peacewatch.server.exports.records import KIND_ORDER, Labels, event_datetime, iso_z

__all__ = ["CATEGORY_COLOURS", "build_kml", "category_colour", "iter_kml", "write_kml"]

# Tableau 10 (colour-blind-aware, distinct on satellite imagery), as RGB hex.
CATEGORY_COLOURS = (
    "1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf",
)


def category_colour(index: int) -> str:
    """RGB hex of the n-th category seen (stable within one file)."""
    return CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]


def _kml_colour(rgb: str, alpha: str = "ff") -> str:
    # KML colours are aabbggrr.
    return f"{alpha}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _description(record: Mapping[str, Any], labels: Labels) -> str:
    """The report as a small HTML table, escaped once as HTML and once more as XML text."""
    when = event_datetime(record)
    casualties = record.get("casualties") or {}
    rows: list[tuple[str, Any]] = [
        (labels.word("col.category"), labels.category(record.get("category"))),
        (labels.word("col.kind"), labels.fixed("kind", record.get("kind"))),
        (labels.word("col.event_time"), iso_z(when) if when else ""),
        (labels.word("col.dtg"), labels.dtg(when) if when else ""),
        (labels.word("col.severity"), record.get("severity")),
        (labels.word("col.contingent"), record.get("contingent")),
        (labels.word("col.review_status"), labels.fixed("status", record.get("review_status"))),
        (labels.word("col.confidentiality"), labels.fixed("conf", record.get("confidentiality"))),
    ]
    if record.get("kind") != "patrol":
        for key in ("killed", "injured", "abducted", "displaced"):
            rows.append((labels.word(f"col.{key}"), casualties.get(key)))
    else:
        rows.append((labels.word("col.patrol_type"), record.get("patrol_type")))
        rows.append((labels.word("col.observations"), record.get("observations")))
    place = (record.get("location") or {}).get("place")
    if place:
        rows.append((labels.word("col.place"), place))
    body = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows if v not in (None, ""))
    text = _esc(record.get("description") or "")
    markup = f"<p>{text}</p><table>{body}</table>"
    return html.escape(markup, quote=False)


def build_kml(records: Iterable[Mapping[str, Any]], *, lang: str = "en", labels: Labels | None = None) -> simplekml.Kml:
    """The KML document: one folder per report kind, placemarks styled by category."""
    labels = labels or Labels(lang)
    doc = simplekml.Kml(name=_esc(labels.word("doc.title")))
    doc.parsetext(parse=False)
    folders = {kind: doc.newfolder(name=_esc(labels.fixed("kind", kind))) for kind in KIND_ORDER}
    styles: dict[str, simplekml.Style] = {}

    def style_for(code: str) -> simplekml.Style:
        style = styles.get(code)
        if style is None:
            colour = _kml_colour(category_colour(len(styles)))
            style = simplekml.Style()
            style.iconstyle.color = colour
            style.iconstyle.scale = 1.1
            style.linestyle.color = colour
            style.linestyle.width = 3
            style.labelstyle.scale = 0.8
            # Shared styles belong to the Document (KML 2.2 §12); simplekml would otherwise
            # write each one inside the first folder that used it.
            doc.document.styles.append(style)
            styles[code] = style
        return style

    for record in records:
        kind = record.get("kind") or "incident"
        folder = folders.get(kind) or folders["incident"]
        route = record.get("route") or []
        location = record.get("location") or {}
        name = _esc(record.get("title") or labels.category(record.get("category")))
        if kind == "patrol" and len(route) >= 2:
            mark = folder.newlinestring(name=name, coords=[(p["lon"], p["lat"]) for p in route])
        elif location.get("lat") is not None and location.get("lon") is not None:
            mark = folder.newpoint(name=name, coords=[(location["lon"], location["lat"])])
        elif route:
            mark = folder.newpoint(name=name, coords=[(route[0]["lon"], route[0]["lat"])])
        else:
            continue  # KML has no placemark without a position; CSV/XLSX/GeoJSON keep such reports
        mark.style = style_for(record.get("category") or "")
        mark.description = _description(record, labels)
        when = event_datetime(record)
        if when is not None:
            mark.timestamp.when = iso_z(when)
        for key in ("id", "category", "severity", "contingent", "review_status", "version_id"):
            if record.get(key) is not None:
                mark.extendeddata.newdata(name=key, value=_esc(record[key]))
    return doc


def iter_kml(records: Iterable[Mapping[str, Any]], **options: Any) -> Iterator[str]:
    """The KML text as one chunk (simplekml renders the whole tree at once)."""
    yield build_kml(records, **options).kml(format=False)


def write_kml(records: Iterable[Mapping[str, Any]], out: IO[bytes], **options: Any) -> int:
    data = b"".join(chunk.encode("utf-8") for chunk in iter_kml(records, **options))
    out.write(data)
    return len(data)
