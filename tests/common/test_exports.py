"""The public names other areas import from common/ exist with these exact names (issue 3 interface)."""

import importlib
import inspect

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
        "RoutePoint",
        "report_to_json",
        "json_schemas",
        "new_report",
    ],
    "versioning": ["canonical_json", "version_id"],
    "i18n": ["gettext", "available_languages", "is_rtl", "N_"],
    "errors": ["InputError", "MESSAGES", "render"],
}
# Modules whose ``__all__`` is their whole public surface, checked both ways below.
EXACT = ("schema", "sync_protocol")


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names(module):
    mod = importlib.import_module(f"peacewatch.common.{module}")
    missing = [name for name in PUBLIC[module] if not hasattr(mod, name)]
    assert not missing


@pytest.mark.parametrize("module", EXACT)
def test_all_is_exactly_what_the_module_exports(module):
    mod = importlib.import_module(f"peacewatch.common.{module}")
    assert len(mod.__all__) == len(set(mod.__all__)), "a name is listed twice"
    assert [name for name in mod.__all__ if not hasattr(mod, name)] == []
    # Every public class and function the module defines is exported, and nothing else it defines is hidden.
    defined = {name for name, obj in vars(mod).items() if not name.startswith("_")
               and (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ == mod.__name__}
    assert sorted(defined - set(mod.__all__)) == []
    if module in PUBLIC:
        # The interface other areas rely on is the whole of it: no name added or dropped unnoticed.
        assert sorted(mod.__all__) == sorted(PUBLIC[module])


def test_taxonomy_methods():
    from peacewatch.common.taxonomy import load_taxonomy

    tax = load_taxonomy()
    for name in ("version", "get", "codes", "for_kind", "label", "related", "is_restricted"):
        assert hasattr(tax, name)
