"""The catalogue of input-error codes shared by coords, timefmt and schema.

Every error a user can see has a stable ``code`` and an English message template
(the gettext msgid, with ``{name}`` placeholders filled by ``str.format``). The
catalogue lives here, in one place, so the i18n test can check that English and
French carry every message, and so clients can switch on codes, not on text.

Exception tree::

    ValueError
     └── InputError(field, code, message)     a bad value for one named field
          ├── CoordinateError                  peacewatch.common.coords
          └── TimeFormatError                  peacewatch.common.timefmt

``peacewatch.common.schema.ReportValidationError`` is a separate ``ValueError``
carrying a list of ``FieldError`` (one per bad field of a report body).
"""

from __future__ import annotations

from typing import Any

from peacewatch.common.i18n import N_, gettext

#: code -> English message template (the msgid in the .po catalogs).
MESSAGES: dict[str, str] = {
    # generic, mapped from pydantic error types
    "required": N_("This field is required."),
    "unknown_field": N_("Unknown field."),
    "not_text": N_("Must be text."),
    "bad_characters": N_("Contains a character that cannot be stored (NUL or broken Unicode)."),
    "not_an_integer": N_("Must be a whole number."),
    "not_a_number": N_("Must be a number."),
    "not_finite": N_("Must be a finite number."),
    "not_a_boolean": N_("Must be true or false."),
    "not_a_list": N_("Must be a list."),
    "not_an_object": N_("Must be an object."),
    "too_small": N_("Must be at least {limit}."),
    "must_be_greater": N_("Must be greater than {limit}."),
    "too_large": N_("Must be at most {limit}."),
    "must_be_less": N_("Must be less than {limit}."),
    "text_too_short": N_("Must have at least {limit} characters."),
    "text_too_long": N_("Must have at most {limit} characters."),
    "too_few_items": N_("Must have at least {limit} items."),
    "too_many_items": N_("Must have at most {limit} items."),
    "bad_format": N_("Has the wrong format."),
    "not_allowed": N_("Must be one of: {allowed}."),
    "bad_uuid": N_("Must be a version 4 UUID."),
    "invalid": N_("Invalid value."),
    # report body
    "invalid_json": N_("The report is not valid JSON."),
    "unknown_kind": N_("Unknown report kind; expected incident, patrol or hr_concern."),
    "unknown_category": N_("Unknown category."),
    "category_not_for_kind": N_("This category cannot be used for this kind of report."),
    "confidentiality_too_low": N_("This category must be reported as restricted."),
    "end_before_start": N_("The end time must not be before the start time."),
    "bad_sha256": N_("Must be 64 lowercase hexadecimal characters (SHA-256)."),
    "bad_media_type": N_("Must be a media type such as image/jpeg."),
    "bad_file_name": N_("Must be a file name without folders or control characters."),
    "bad_language": N_("Must be a language code such as en, fr or ar."),
    # coordinates
    "position_missing": N_("Give a latitude and longitude, or an MGRS reference."),
    "lat_out_of_range": N_("Latitude must be between -90 and 90 degrees."),
    "lon_out_of_range": N_("Longitude must be between -180 and 180 degrees."),
    "invalid_mgrs": N_("Not a valid MGRS grid reference."),
    "mgrs_mismatch": N_("The MGRS reference does not contain the given latitude and longitude."),
    "invalid_position": N_("Not a position: type lat, lon (4.85, 31.6), 4.85N 31.6E, or an MGRS reference."),
    "bad_precision": N_("MGRS precision must be 0 to 5 digit pairs."),
    # time
    "bad_datetime": N_("Must be an ISO 8601 date and time, such as 2026-11-24T15:30:00Z."),
    "naive_datetime": N_("Must include a time zone (Z or an offset such as +03:00)."),
    "bad_dtg": N_("Must be a date-time group such as 241530ZNOV26."),
    "bad_zone": N_("Unknown military time-zone letter."),
}


def render(code: str, lang: str = "en", params: dict[str, Any] | None = None) -> str:
    """The message for ``code`` in ``lang`` with ``params`` filled in (unknown code -> 'Invalid value.')."""
    template = gettext(MESSAGES.get(code, MESSAGES["invalid"]), lang)
    try:
        return template.format(**(params or {}))
    except (KeyError, IndexError, ValueError):
        # A translation with a broken placeholder must never crash error reporting.
        return gettext(MESSAGES.get(code, MESSAGES["invalid"]), "en").format_map(_Blank(params or {}))


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


class InputError(ValueError):
    """A bad value for one named field: ``field``, stable ``code``, English ``message``."""

    def __init__(self, field: str, code: str, message: str | None = None, **params: Any) -> None:
        self.field = field
        self.code = code
        self.params = params
        self.message = message if message is not None else render(code, "en", params)
        super().__init__(f"{field}: {self.message}" if field else self.message)

    def message_for(self, lang: str) -> str:
        """The message translated into ``lang`` (English when no catalog has it)."""
        return render(self.code, lang, self.params)
