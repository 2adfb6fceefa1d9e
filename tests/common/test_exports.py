"""The public names other areas import from common/ exist with these exact names (issue 3 interface)."""

import importlib

import pytest

PUBLIC = {
    "taxonomy": ["load_taxonomy", "Taxonomy", "Category", "TaxonomyError", "UnknownCategory"],
    "coords": ["to_mgrs", "from_mgrs", "parse_position", "Position", "CoordinateError"],
    "timefmt": ["to_dtg", "parse_dtg", "to_iso", "parse_iso", "utcnow", "TimeFormatError", "ZONES"],
    "schema": [
        "Kind",
        "Confidentiality",
        "Location",
        "Casualties",
        "Person",
        "AttachmentRef",
        "IncidentReport",
        "PatrolReport",
        "HumanRightsConcern",
        "Report",
        "parse_report",
        "ReportValidationError",
        "FieldError",
        "report_to_json",
        "json_schemas",
        "new_report",
    ],
    "versioning": ["canonical_json", "version_id"],
    "i18n": ["gettext", "available_languages", "is_rtl", "N_"],
    "errors": ["InputError", "MESSAGES", "render"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names(module):
    mod = importlib.import_module(f"peacewatch.common.{module}")
    missing = [name for name in PUBLIC[module] if not hasattr(mod, name)]
    assert not missing


def test_schema_all_is_exactly_what_it_exports():
    schema = importlib.import_module("peacewatch.common.schema")
    assert sorted(schema.__all__) == sorted(set(schema.__all__))
    assert all(hasattr(schema, name) for name in schema.__all__)
    assert set(PUBLIC["schema"]) <= set(schema.__all__)


def test_taxonomy_methods():
    from peacewatch.common.taxonomy import load_taxonomy

    tax = load_taxonomy()
    for name in ("version", "get", "codes", "for_kind", "label", "related", "is_restricted"):
        assert hasattr(tax, name)
