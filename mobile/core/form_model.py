"""The report form's state, UI-free: fields from the shared JSON Schema, values, problems, navigation.

:func:`build_form` turns one kind's schema (``peacewatch.common.schema.json_schemas``) into a list
of :class:`FieldSpec` (what to show and with which editor kind), and :class:`FormModel` holds the
draft's fields, converts what the user typed into body values, saves the draft on every change
and explains every problem next to its field in the user's language. A property added to the
schema appears in the form with no UI code: its editor is chosen from its JSON type (enum ->
choice, integer -> number, boolean -> switch, date-time -> time, object of integers -> counts,
array of objects -> people list...).

The model also decides what a screen only renders (the electrum habit: navigation state out of
the GUI, tested without a display): the form's :meth:`FormModel.sections`, which field is
:meth:`FormModel.next_field` to fill, and what :meth:`FormModel.blocking` finishing, in form order,
so the screen can list every missing field and bring the first one into view. Fields filled from
the enrolment (the user's contingent) are :attr:`FormModel.locked` unless the role may change them.

What the user typed is kept even when it is not valid yet (a half-typed time or grid reference
is saved into the draft as typed), so a crash never loses a keystroke; the schema then reports it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from peacewatch.common.coords import CoordinateError
from peacewatch.common.i18n import N_, gettext
from peacewatch.common.schema import json_schemas
from peacewatch.common.taxonomy import DEFAULT_CONFIDENTIALITY, UnknownCategory, load_taxonomy
from peacewatch.common.timefmt import TimeFormatError, parse_dtg, parse_iso, to_iso, utcnow
from peacewatch.mobile.core.location import from_typed
from peacewatch.mobile.core.reports import validate_body

# Filled in by the app, never typed: the report's identity and who/what language wrote it.
HIDDEN = frozenset({"id", "kind", "author", "language"})
# Shown first, in this order; every other property follows in schema order.
LEADING = ("category", "title", "event_time", "location", "severity", "confidentiality")
# Filled from the enrolment (who the server says the user is) and locked for roles that report
# only for their own unit; the server refuses another contingent from them anyway.
FROM_ENROLMENT = ("contingent", "unit")
# Roles that may report for another contingent (the server's HQ roles).
ROLES_CHOOSING_CONTINGENT = frozenset({"hq_analyst", "protection_officer", "hr_officer"})

SECTION_TITLES = {
    "essentials": N_("Needed to send"),
    "details": N_("More details"),
    "identity": N_("Reporting for"),
}



@dataclass(frozen=True)
class FieldSpec:
    """One form field: its property ``name``, the ``editor`` to use, and its translated texts."""

    name: str
    editor: str  # choice | scale | text | multiline | integer | number | boolean | datetime | location
    #              counts | people | attachments | route | json
    title: str
    description: str = ""
    required: bool = False
    choices: tuple[tuple[Any, str], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    default: Any = None
    parts: tuple[FieldSpec, ...] = ()  # counts: one integer per part; people: the fields of one person


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and unwrap ``anyOf [X, null]`` (optional fields)."""
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _resolve(merged, defs)
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if o.get("type") != "null"]
        if len(options) == 1:
            merged = {**_resolve(options[0], defs), **{k: v for k, v in node.items() if k != "anyOf"}}
            return merged
    return node


def _spec(name: str, raw: dict[str, Any], defs: dict[str, Any], required: bool) -> FieldSpec:
    node = _resolve(raw, defs)
    title = str(node.get("title") or name)
    description = str(node.get("description") or "")
    kind = node.get("type")
    common: dict[str, Any] = {
        "name": name, "title": title, "description": description, "required": required,
        "default": node.get("default"),
    }
    if "enum" in node:
        labels = node.get("x-labels", {})
        return FieldSpec(editor="choice", choices=tuple((v, str(labels.get(v, v))) for v in node["enum"]), **common)
    if kind == "string":
        if node.get("format") == "date-time":
            return FieldSpec(editor="datetime", **common)
        long = int(node.get("maxLength") or 0) > 1000
        return FieldSpec(editor="multiline" if long else "text", **common)
    if kind == "integer":
        low, high = node.get("minimum"), node.get("maximum")
        if low is not None and high is not None and high - low <= 9:
            # A short scale (severity 1-5) is quicker to tap than to type.
            choices = tuple((v, str(v)) for v in range(int(low), int(high) + 1))
            return FieldSpec(editor="scale", choices=choices, minimum=low, maximum=high, **common)
        return FieldSpec(editor="integer", minimum=low, maximum=high, **common)
    if kind == "number":
        return FieldSpec(editor="number", minimum=node.get("minimum"), maximum=node.get("maximum"), **common)
    if kind == "boolean":
        return FieldSpec(editor="boolean", **common)
    props = node.get("properties", {})
    if kind == "object" and {"lat", "lon"} <= set(props):
        return FieldSpec(editor="location", **common)
    if kind == "object" and props and all(_resolve(p, defs).get("type") == "integer" for p in props.values()):
        parts = tuple(_spec(k, v, defs, False) for k, v in props.items())
        return FieldSpec(editor="counts", parts=parts, **common)
    if kind == "array":
        item = _resolve(node.get("items", {}), defs)
        item_props = item.get("properties", {})
        if {"sha256", "media_type"} <= set(item_props):
            return FieldSpec(editor="attachments", **common)
        if set(item_props) == {"lat", "lon"}:
            return FieldSpec(editor="route", **common)
        if item.get("type") == "object" and item_props:
            required_parts = set(item.get("required", []))
            parts = tuple(_spec(k, v, defs, k in required_parts) for k, v in item_props.items())
            return FieldSpec(editor="people", parts=parts, **common)
    return FieldSpec(editor="json", **common)


def build_form(kind: str, lang: str, schemas: dict[str, dict[str, Any]] | None = None) -> list[FieldSpec]:
    """The fields of a ``kind`` report, titles in ``lang``, leading fields first."""
    schema = (schemas or json_schemas(lang))[kind]
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    props = schema["properties"]
    order = [n for n in LEADING if n in props] + [n for n in props if n not in LEADING]
    return [_spec(name, props[name], defs, name in required) for name in order if name not in HIDDEN]


# ----- values ----------------------------------------------------------------------------------
def parse_time(text: str) -> datetime:
    """A typed time: ISO 8601 (``2026-11-24T15:30Z``) or a DTG (``241530ZNOV26``)."""
    text = text.strip()
    try:
        return parse_iso(text, "event_time")
    except TimeFormatError:
        return parse_dtg(text.upper(), "event_time")


@dataclass
class FormModel:
    """One draft being edited: its values, its problems, and the save-on-every-change hook."""

    report_id: str
    kind: str
    lang: str
    fields: dict[str, Any]
    save: Callable[[dict[str, Any]], None] = lambda fields: None
    schemas: dict[str, dict[str, Any]] | None = None
    touched: set[str] = field(default_factory=set)
    show_all: bool = False  # after a finalise attempt every problem is shown, touched or not
    _local: dict[str, str] = field(default_factory=dict)  # problems found while converting input
    # What the enrolment says about the user (``contingent``, maybe ``unit``) and their role.
    enrolment: dict[str, str] = field(default_factory=dict)
    role: str = ""

    def __post_init__(self) -> None:
        self.specs = build_form(self.kind, self.lang, self.schemas)
        self.by_name = {s.name: s for s in self.specs}
        # A draft started before enrolment, or typed by hand, takes the enrolled values.
        changed = False
        for name in self.locked:
            if self.fields.get(name) != self.enrolment[name]:
                self.fields[name] = self.enrolment[name]
                changed = True
        if changed:
            self.save(self.fields)

    @property
    def locked(self) -> frozenset[str]:
        """Fields filled from the enrolment that this user may not change."""
        if self.role in ROLES_CHOOSING_CONTINGENT:
            return frozenset()
        return frozenset(n for n in FROM_ENROLMENT if n in self.by_name and self.enrolment.get(n))

    # ----- navigation ------------------------------------------------------------------------
    def sections(self) -> list[tuple[str, list[FieldSpec]]]:
        """The form's sections in display order: what is needed to send, more details, and who
        the report is for (locked fields, shown last as information). Empty sections are left out."""
        locked = self.locked
        essentials = [s for s in self.specs if s.required and s.name not in locked]
        details = [s for s in self.specs if not s.required and s.name not in locked]
        identity = [s for s in self.specs if s.name in locked]
        out = [("essentials", essentials), ("details", details), ("identity", identity)]
        return [(name, specs) for name, specs in out if specs]

    def order(self) -> list[str]:
        """Field names in the order the form shows them."""
        return [spec.name for _section, specs in self.sections() for spec in specs]

    def blocking(self) -> list[tuple[str, list[str]]]:
        """Every problem that stops finishing, ``(field, messages)`` in form order; report-wide
        problems (field ``""``) come last. Touched or not: this is what finishing would meet."""
        was = self.show_all
        self.show_all = True
        try:
            problems = self.problems()
        finally:
            self.show_all = was
        ordered = [(name, problems[name]) for name in self.order() if problems.get(name)]
        if problems.get(""):
            ordered.append(("", problems[""]))
        return ordered

    def can_finish(self) -> bool:
        return not self.blocking()

    def next_field(self) -> str | None:
        """The field to fill next: the first one, in form order, that blocks finishing."""
        for name, _messages in self.blocking():
            if name:
                return name
        return None

    def is_missing(self, name: str) -> bool:
        """A required field with no value yet (the form marks it before any finishing attempt)."""
        spec = self.by_name[name]
        return spec.required and self.fields.get(name) in (None, "", [], {})

    @staticmethod
    def defaults(kind: str, *, lang: str, author: str, contingent: str) -> dict[str, Any]:
        """A new report's fields: times now, the user's language, author and contingent filled in."""
        now = to_iso(utcnow().replace(microsecond=0))
        fields: dict[str, Any] = {"language": lang, "confidentiality": DEFAULT_CONFIDENTIALITY}
        if author:
            fields["author"] = author
        if contingent:
            fields["contingent"] = contingent
        for name in ("event_time", "start_time", "end_time"):
            if any(s.name == name for s in build_form(kind, "en")):
                fields[name] = now
        return fields

    def set_language(self, lang: str) -> None:
        """Switch the form's labels (the values do not change)."""
        self.lang = lang
        self.specs = build_form(self.kind, lang, None if self.schemas is None else self.schemas)
        self.by_name = {s.name: s for s in self.specs}

    # ----- input ---------------------------------------------------------------------------
    def set_text(self, name: str, text: str) -> None:
        """The user typed ``text`` into field ``name``: convert, remember, save."""
        spec = self.by_name[name]
        self._local.pop(name, None)
        value: Any = text
        if spec.editor == "datetime":
            value = self._typed_time(name, text)
        elif spec.editor == "location":
            value = self._typed_location(name, text)
        elif spec.editor in ("integer", "number"):
            value = self._typed_number(name, text, spec.editor == "integer")
        elif spec.editor == "route":
            value = self._typed_route(name, text)
        elif text == "" and not spec.required:
            value = None
        self.set_value(name, value)

    def set_value(self, name: str, value: Any) -> None:
        """Store a value (already in body form) and save the draft."""
        if name in self.locked:
            raise ValueError(f"{name}: filled from the enrolment and locked for role {self.role or 'unknown'}")
        self.touched.add(name)
        if value is None or value == "":
            self.fields.pop(name, None)
        else:
            self.fields[name] = value
        if name == "category":
            self._preset_confidentiality(value)
        self.save(self.fields)

    def set_part(self, name: str, part: str, text: str) -> None:
        """One count of a counts field (``casualties.injured``) typed as text."""
        counts = dict(self.fields.get(name) or {})
        self._local.pop(name, None)
        counts[part] = self._typed_number(name, text, True)
        if counts[part] is None:
            counts.pop(part)
        self.set_value(name, counts)

    def set_gps(self, name: str, location: dict[str, Any]) -> None:
        """A GPS fix arrived for location field ``name`` (``Location.as_body()``)."""
        self._local.pop(name, None)
        self.set_value(name, location)

    def _typed_time(self, name: str, text: str) -> Any:
        if not text.strip():
            return None
        try:
            return to_iso(parse_time(text))
        except TimeFormatError:
            self._local[name] = gettext(N_("Type a time like 2026-11-24 15:30Z or a DTG like 241530ZNOV26."),
                                        self.lang)
            return text

    def _typed_location(self, name: str, text: str) -> Any:
        if not text.strip():
            return None
        current = self.fields.get(name)
        if (isinstance(current, dict) and current.get("source") == "gps"
                and text.strip() == f"{current.get('lat')}, {current.get('lon')}"):
            return current  # the box now shows the GPS fix: it stays a GPS fix with its accuracy
        try:
            location = from_typed(text)
        except CoordinateError as exc:
            self._local[name] = exc.message_for(self.lang)
            # Keep the keystrokes in the draft; the schema reads an unparsable grid as an error.
            return {"mgrs": text}
        body = location.as_body()
        body["mgrs"] = location.mgrs
        return body

    def _typed_number(self, name: str, text: str, integer: bool) -> Any:
        text = text.strip()
        if not text:
            return None
        try:
            return int(text) if integer else float(text)
        except ValueError:
            self._local[name] = gettext(N_("Type a number."), self.lang)
            return text

    def _typed_route(self, name: str, text: str) -> Any:
        points = []
        for line in filter(None, (ln.strip() for ln in text.splitlines())):
            try:
                location = from_typed(line)
            except CoordinateError as exc:
                self._local[name] = f"{line}: {exc.message_for(self.lang)}"
                return self.fields.get(name)
            points.append({"lat": location.lat, "lon": location.lon})
        return points or None

    def _preset_confidentiality(self, category: Any) -> None:
        # The server's default-confidentiality rule (common.taxonomy): restricted categories (e.g.
        # sexual violence) start restricted; nothing is ever preset wider than mission.
        try:
            level = load_taxonomy().initial_confidentiality(str(category))
        except UnknownCategory:
            return
        if level == "restricted" and "confidentiality" in self.by_name:
            self.fields["confidentiality"] = level

    # ----- people ----------------------------------------------------------------------------
    def add_person(self, name: str) -> None:
        """Append a person with the schema's defaults to people field ``name``."""
        spec = self.by_name[name]
        person = {p.name: p.default for p in spec.parts if p.default is not None}
        self.set_value(name, [*copy.deepcopy(self.fields.get(name) or []), person])

    def set_person(self, name: str, index: int, part: str, value: Any) -> None:
        people = copy.deepcopy(self.fields.get(name) or [])
        spec = next(p for p in self.by_name[name].parts if p.name == part)
        if spec.editor == "integer" and isinstance(value, str):
            value = self._typed_number(name, value, True)
        if value is None or value == "":
            people[index].pop(part, None)
        else:
            people[index][part] = value
        self.set_value(name, people)

    def remove_person(self, name: str, index: int) -> None:
        people = copy.deepcopy(self.fields.get(name) or [])
        del people[index]
        self.set_value(name, people or None)

    # ----- problems --------------------------------------------------------------------------
    def problems(self) -> dict[str, list[str]]:
        """Plain-words problems per top-level field, in the form's language (touched fields only,
        or all of them after :meth:`show_all_problems`)."""
        body = {**self.fields, "id": self.report_id, "kind": self.kind}
        _, errors = validate_body(body)
        out: dict[str, list[str]] = {}
        for name, message in self._local.items():
            out.setdefault(name, []).append(message)
        for error in errors:
            top = error.field.split(".")[0] if error.field else ""
            if top in self._local:
                continue  # our message about the typed text says it better
            target = top if top in self.by_name else ""
            out.setdefault(target, [])
            message = error.message_for(self.lang)
            if target == "" and error.field:
                message = f"{error.field}: {message}"
            if message not in out[target]:
                out[target].append(message)
        if self.show_all:
            return out
        return {k: v for k, v in out.items() if k in self.touched}

    def show_all_problems(self) -> None:
        self.show_all = True
