"""Alert rules in the dashboard: list, create, edit and delete them with a form (HQ and admin).

The form is the API's ``RuleIn`` (``alerts.models``) in form fields: every check is the API's, and
a refused form comes back with each error next to its field, in the visitor's language, nothing
stored. The rules themselves hold no report content (``Permission.ALERT_RULES``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from ....common.taxonomy import CONFIDENTIALITY_LEVELS, KINDS
from ...access import Role
from ...alerts import rules
from ...alerts.models import RuleIn
from ...db.tables import reference_items
from ...deps import ReadConn
from ...input_checks import Id64
from ...users import service as users
from ..render import category_codes, page
from ..services import WriteTx, as_page
from ..session import CSRF, AlertRulesPage, FormFields

router = APIRouter(include_in_schema=False)

ROLES = [r.value for r in Role if r is not Role.ADMIN]
INSIDE = ("hotspot", "coverage_gap")
ESCALATION_ROWS = 2  # empty ladder steps offered below the rule's own
MAX_LADDER = 10 + ESCALATION_ROWS  # RuleIn allows 10 steps: more rows are read, so refused by name

# Where each of RuleIn's fields sits in the form.
FIELD_OF = {("conditions", "near", "km"): "near_km", ("conditions", "near", "reference_id"): "near_reference_id",
            ("conditions", "cluster", "count"): "cluster_count", ("conditions", "cluster", "hours"): "cluster_hours",
            ("conditions", "cluster", "km"): "cluster_km", ("audience", "roles"): "audience_roles",
            ("audience", "contingents"): "audience_contingents"}
# Pydantic's error types in words of the dashboard's catalogs ({limit} is the field's bound).
MESSAGES = {"missing": "Required", "string_too_short": "Required", "int_parsing": "Enter a whole number",
            "int_from_float": "Enter a whole number", "float_parsing": "Enter a number",
            "greater_than": "Must be more than {limit}", "greater_than_equal": "Must be at least {limit}",
            "less_than": "Must be less than {limit}", "less_than_equal": "Must be at most {limit}",
            "too_short": "Choose at least one", "too_long": "Too many", "string_too_long": "Too long",
            "literal_error": "Not one of the choices"}


def _form_field(loc: tuple[Any, ...]) -> str:
    parts = tuple(str(p) for p in loc)
    if parts[:1] == ("escalation",) and len(parts) >= 3:
        return f"esc-{parts[1]}-{parts[2]}"
    if parts[:1] == ("conditions",) and len(parts) >= 2 and parts[1] not in ("near", "cluster"):
        return parts[1]
    return FIELD_OF.get(parts[:3], FIELD_OF.get(parts[:2], "_".join(parts[:2]) if len(parts) > 1 else parts[0]))


def _errors(exc: ValidationError) -> dict[str, tuple[str, dict[str, Any]]]:
    """Form field -> (msgid, values) of its first error."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for err in exc.errors():
        field = _form_field(tuple(err["loc"]))
        ctx = err.get("ctx") or {}
        limit = next((ctx[k] for k in ("gt", "ge", "lt", "le") if k in ctx), None)
        if err["type"] in MESSAGES:
            message = (MESSAGES[err["type"]], {"limit": limit} if limit is not None else {})
        elif "increasing" in err["msg"]:
            message = ("Each step must come later than the one before", {})
        elif field == "area":
            message = ("Not a GeoJSON Polygon or MultiPolygon", {})
        else:
            message = ("Not a valid value", {})
        out.setdefault(field, message)
    return out


def _number(value: str) -> str | None:
    return value.strip() or None


def _parse(form: dict[str, str], lists: dict[str, list[str]]) -> dict[str, Any]:
    """The form's fields as a ``RuleIn`` body (text kept as typed: the model checks and converts)."""
    conditions: dict[str, Any] = {"kinds": lists.get("kinds", []), "categories": lists.get("categories", []),
                                  "confidentiality": lists.get("confidentiality", []),
                                  "contingents": lists.get("contingents", [])}
    if _number(form.get("min_severity", "")):
        conditions["min_severity"] = form["min_severity"].strip()
    if _number(form.get("near_km", "")):
        conditions["near"] = {"km": form["near_km"].strip(), "reference_id": form.get("near_reference_id") or None}
    if form.get("area_reference_id"):
        conditions["area_reference_id"] = form["area_reference_id"]
    if form.get("area", "").strip():
        conditions["area"] = form["area"].strip()  # parsed below, refused by name if not JSON
    if form.get("inside"):
        conditions["inside"] = form["inside"]
    cluster = {k: _number(form.get(f"cluster_{k}", "")) for k in ("count", "hours", "km")}
    if any(cluster.values()):
        conditions["cluster"] = cluster
    escalation = []
    for i in range(MAX_LADDER):
        minutes = _number(form.get(f"esc-{i}-after_minutes", ""))
        roles = lists.get(f"esc-{i}-roles", [])
        if minutes or roles:
            escalation.append({"after_minutes": minutes, "roles": roles,
                               "contingents": lists.get(f"esc-{i}-contingents", [])})
    return {"name": form.get("name", "").strip(), "enabled": form.get("enabled") == "on",
            "conditions": conditions,
            "audience": {"roles": lists.get("audience_roles", []),
                         "contingents": lists.get("audience_contingents", [])},
            "escalation": escalation, "shareable": form.get("shareable") == "on"}


def _validated(body: dict[str, Any]) -> tuple[RuleIn | None, dict[str, tuple[str, dict[str, Any]]]]:
    """The rule, or every field's error (the area's JSON first, then the model's checks)."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    area = body["conditions"].get("area")
    checked = body
    if isinstance(area, str):
        try:
            checked = body | {"conditions": body["conditions"] | {"area": json.loads(area)}}
        except ValueError:
            errors["area"] = ("Not a GeoJSON Polygon or MultiPolygon", {})
            checked = body | {"conditions": {k: v for k, v in body["conditions"].items() if k != "area"}}
    try:
        rule = RuleIn.model_validate(checked)
    except ValidationError as exc:
        return None, _errors(exc) | errors
    return (rule, {}) if not errors else (None, errors)


def _references(conn: Any) -> dict[str, list[dict[str, Any]]]:
    rows = conn.execute(select(reference_items.c.id, reference_items.c.kind, reference_items.c.names,
                               reference_items.c.geometry).order_by(reference_items.c.id)).mappings().all()
    areas = [r for r in rows if (r["geometry"] or {}).get("type") in ("Polygon", "MultiPolygon")]
    return {"places": [dict(r) for r in rows if r not in areas], "areas": [dict(r) for r in areas]}


def _blank() -> dict[str, Any]:
    return {"name": "", "enabled": True, "conditions": {}, "audience": {"roles": [], "contingents": []},
            "escalation": [], "shareable": False}


def _form_page(request: Request, conn: Any, me: Any, *, rule: dict[str, Any], rule_id: int | None,
               errors: dict[str, tuple[str, dict[str, Any]]] | None = None, status_code: int = 200) -> Response:
    return page(request, "alert_rule_form.html", me, status_code=status_code, rule=rule, rule_id=rule_id,
                errors=errors or {}, kinds=KINDS, levels=CONFIDENTIALITY_LEVELS, categories=category_codes(),
                roles=ROLES, inside_choices=INSIDE, contingents=users.list_contingents(conn),
                references=_references(conn),
                ladder=list(rule.get("escalation") or []) + [{}] * ESCALATION_ROWS)


async def _lists(request: Request) -> dict[str, list[str]]:
    """Every non-empty value of each posted field (checkboxes and multiple selects repeat a name)."""
    form = await request.form()
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and value != "":
            out.setdefault(key, []).append(value)
    return out


Lists = Annotated[dict[str, list[str]], Depends(_lists)]


@router.get("/alert-rules")
def rules_page(request: Request, conn: ReadConn, me: AlertRulesPage) -> Response:
    """Every rule with its conditions, audience, ladder and whether it may leave the mission."""
    return page(request, "alert_rules.html", me, rules=rules.list_rules(conn)["items"],
                references={r["id"]: r for group in _references(conn).values() for r in group},
                done=request.query_params.get("done", ""))


@router.get("/alert-rules/new")
def new_rule(request: Request, conn: ReadConn, me: AlertRulesPage) -> Response:
    return _form_page(request, conn, me, rule=_blank(), rule_id=None)


@router.get("/alert-rules/{rule_id}")
def edit_rule(request: Request, rule_id: Id64, conn: ReadConn, me: AlertRulesPage) -> Response:
    with as_page(me):
        rule = rules.get_rule(conn, rule_id)
    return _form_page(request, conn, me, rule=rule, rule_id=rule_id)


@router.post("/alert-rules")
def create_rule(request: Request, conn: WriteTx, me: AlertRulesPage, _csrf: CSRF, form: FormFields,
                lists: Lists) -> Response:
    body = _parse(form, lists)
    rule, errors = _validated(body)
    if rule is None:
        return _form_page(request, conn, me, rule=body, rule_id=None, errors=errors, status_code=422)
    with as_page(me):
        made = rules.create_rule(conn, me, rule=rule)
    return RedirectResponse(f"/alert-rules?done=created:{made['id']}", status_code=303)


@router.post("/alert-rules/{rule_id}")
def replace_rule(request: Request, rule_id: Id64, conn: WriteTx, me: AlertRulesPage, _csrf: CSRF,
                 form: FormFields, lists: Lists) -> Response:
    with as_page(me):
        rules.get_rule(conn, rule_id)
    body = _parse(form, lists)
    rule, errors = _validated(body)
    if rule is None:
        return _form_page(request, conn, me, rule=body, rule_id=rule_id, errors=errors, status_code=422)
    with as_page(me):
        rules.replace_rule(conn, me, rule_id=rule_id, rule=rule)
    return RedirectResponse(f"/alert-rules?done=changed:{rule_id}", status_code=303)


@router.post("/alert-rules/{rule_id}/delete")
def delete_rule(rule_id: Id64, conn: WriteTx, me: AlertRulesPage, _csrf: CSRF) -> Response:
    with as_page(me):
        rules.delete_rule(conn, me, rule_id=rule_id)
    return RedirectResponse(f"/alert-rules?done=deleted:{rule_id}", status_code=303)
