"""KML export (simplekml) for Google Earth and GIS tools: points for incidents and human-rights
concerns, lines for patrol routes, one shared style per category, an HTML description per report.

Every text that reaches the file is escaped here and simplekml's own escaping is switched off
(`parsetext(False)`): simplekml leaves anything inside ``<![CDATA[`` unescaped, so a report title
typed in the field could otherwise break or inject into the document. KML is an XML tree built in
memory by simplekml, so this format is not constant-memory like CSV and GeoJSON.

Two fixes on simplekml's text make the file valid against the KML 2.2 schema (fastkml's default
validation) and self-contained: simplekml numbers its elements (``id="7"``), but ``xs:ID`` must
not start with a digit, so every id gets a prefix; and its default icon points to an internet
host, which a mission network cannot reach and a partner should not be sent to, so the ``Icon``
element is dropped (viewers then draw their built-in pin in the style's colour).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import simplekml
from lxml import etree

from peacewatch.common.colours import category_colour
from peacewatch.server.exports.records import KIND_ORDER, Labels, event_datetime, iso_z

__all__ = ["build_kml", "iter_kml", "write_kml"]

def _kml_colour(rgb: str, alpha: str = "ff") -> str:
    # KML colours are aabbggrr; ours are #rrggbb.
    rgb = rgb.lstrip("#")
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
            colour = _kml_colour(category_colour(code))
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


_KML = "{http://www.opengis.net/kml/2.2}"
# Children of a Document that the schema places after the feature's own elements (name, description...)
_DOCUMENT_BODY = {f"{_KML}Folder", f"{_KML}Placemark", f"{_KML}Schema"}


def _valid_kml(text: str) -> str:
    """simplekml's output made schema-valid and self-contained (see the module docstring).

    simplekml also writes a Document's shared styles before its ``name``, where the schema wants
    them after the feature's own elements and before its folders."""
    root = etree.fromstring(text.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    for element in root.iter():
        ident = element.get("id")
        if ident is not None and ident[:1].isdigit():
            element.set("id", f"pw-{ident}")
        if element.tag == f"{_KML}styleUrl" and element.text and element.text[1:2].isdigit():
            element.text = f"#pw-{element.text[1:]}"
    for icon in root.findall(f".//{_KML}Icon"):
        icon.getparent().remove(icon)
    document = root.find(f"{_KML}Document")
    if document is not None:
        styles = document.findall(f"{_KML}Style")
        for style in styles:
            document.remove(style)
        at = next((i for i, child in enumerate(document) if child.tag in _DOCUMENT_BODY), len(document))
        for style in reversed(styles):
            document.insert(at, style)
    return etree.tostring(root, encoding="unicode", xml_declaration=False)


def iter_kml(records: Iterable[Mapping[str, Any]], **options: Any) -> Iterator[str]:
    """The KML text as one chunk (simplekml renders the whole tree at once)."""
    yield _valid_kml(build_kml(records, **options).kml(format=False))


def write_kml(records: Iterable[Mapping[str, Any]], out: IO[bytes], **options: Any) -> int:
    data = b"".join(chunk.encode("utf-8") for chunk in iter_kml(records, **options))
    out.write(data)
    return len(data)
