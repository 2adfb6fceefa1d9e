"""The app's session: where the store lives, opening it with the PIN, and the settings kept in it.

UI-free. The PIN protects everything sensitive: server address, device credential, user name and
contingent live in the encrypted store's ``meta`` table. Only the display language is kept in
plaintext (``app.json`` beside the store) because the PIN screen must speak it before unlocking.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peacewatch.common.i18n import available_languages

# The store's modules (SQLCipher, sqlite-utils, Argon2, the schema) are imported when the PIN is
# entered, not at start: the PIN screen draws without them (measured: bench/app_start.py).
if TYPE_CHECKING:
    from peacewatch.mobile.core import keys
    from peacewatch.mobile.core.drafts import Drafts
    from peacewatch.mobile.core.reports import Reports
    from peacewatch.mobile.core.store import Store
    from peacewatch.mobile.core.sync_client import EnrolResult

PREFS_NAME = "app.json"
STORE_DIR = "store"
# Settings kept in the encrypted store's meta table.
SETTING_KEYS = ("server_url", "credential", "username", "contingent", "role", "last_sync_at", "ca_path",
                "gps_max_accuracy_m", "photo_metadata")


def kdf_params() -> keys.KdfParams | None:
    """Argon2id parameters for a new store: calibrated on the device, or the cheap test ones when
    ``PEACEWATCH_KDF=test`` (window tests only: a store made so is weak against guessing)."""
    from peacewatch.mobile.core import keys

    return keys.TEST_KDF if os.environ.get("PEACEWATCH_KDF") == "test" else None


@dataclass
class Session:
    """The data directory, and the open store once the PIN was accepted."""

    data_dir: Path
    store: Store | None = None

    @property
    def store_path(self) -> Path:
        return self.data_dir / STORE_DIR

    # ----- plaintext preferences -----------------------------------------------------------
    def language(self) -> str:
        try:
            lang = json.loads((self.data_dir / PREFS_NAME).read_text(encoding="utf-8")).get("language", "en")
        except (OSError, ValueError, AttributeError):
            return "en"
        return lang if lang in available_languages() else "en"

    def set_language(self, lang: str) -> None:
        if lang not in available_languages():
            raise ValueError(f"language: no catalog for {lang!r}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.data_dir / (PREFS_NAME + ".tmp")
        tmp.write_text(json.dumps({"language": lang}), encoding="utf-8")
        os.replace(tmp, self.data_dir / PREFS_NAME)

    # ----- the store ------------------------------------------------------------------------
    def has_store(self) -> bool:
        # Store.exists' test without importing the store (see the imports above).
        return (self.store_path / "header.json").exists() and (self.store_path / "store.db").exists()

    def create(self, pin: str, confirm: str) -> None:
        """First start: make the store. ``InvalidInput`` (field ``pin``/``confirm``) for a bad PIN."""
        from peacewatch.mobile.core.errors import InvalidInput
        from peacewatch.mobile.core.store import Store

        if pin != confirm:
            raise InvalidInput("confirm", "the two PINs differ")
        self.store = Store.create(self.store_path, pin, kdf=kdf_params())

    def unlock(self, pin: str) -> None:
        """Open the store; WrongPin / LockedOut / StoreWiped / InvalidInput pass through for the screen."""
        from peacewatch.mobile.core.store import Store

        self.store = Store.open(self.store_path, pin)

    def lock(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    @property
    def open_store(self) -> Store:
        if self.store is None:
            from peacewatch.mobile.core.errors import StoreLocked

            raise StoreLocked("the store is locked")
        return self.store

    # ----- settings in the store ----------------------------------------------------------
    def setting(self, key: str) -> str:
        return self.open_store.get_meta(key) or ""

    def set_settings(self, **values: Any) -> None:
        unknown = set(values) - set(SETTING_KEYS)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        store = self.open_store
        with store.transaction() as conn:
            for key, value in values.items():
                store.set_meta(conn, key, str(value))

    def enrolled(self, result: EnrolResult, server_url: str) -> None:
        """Keep the enrolment: the server's device id becomes part of every version id from now on."""
        from peacewatch.mobile.core.device import adopt_device_id

        store = self.open_store
        with store.transaction() as conn:
            # Reports finalised before enrolment are re-derived with the new id, or never sync.
            adopt_device_id(store, conn, result.device_id)
            store.set_meta(conn, "credential", result.credential)
            store.set_meta(conn, "username", result.username)
            store.set_meta(conn, "server_url", server_url)
            # Who the server says the user is: the form fills and locks the contingent from it.
            store.set_meta(conn, "role", result.role)
            store.set_meta(conn, "photo_metadata", result.photo_metadata)
            if result.contingent:
                store.set_meta(conn, "contingent", result.contingent)
        if result.recovery_public_key:
            # A forgotten PIN then costs no report: the mission's offline key can open this store.
            store.seal_for_recovery(result.recovery_public_key)

    @property
    def enrolment(self) -> dict[str, str]:
        """What the enrolment says about the user, for the form (``contingent``)."""
        contingent = self.setting("contingent")
        return {"contingent": contingent} if contingent else {}

    @property
    def contingent_locked(self) -> bool:
        """True when the enrolled role reports only for its own contingent."""
        from peacewatch.mobile.core.form_model import ROLES_CHOOSING_CONTINGENT

        role = self.setting("role")
        return bool(role) and role not in ROLES_CHOOSING_CONTINGENT

    def gps_max_accuracy(self) -> float:
        """The user's "accept a fix only better than N m" setting (default 50 m)."""
        from peacewatch.mobile.core.location_provider import DEFAULT_MAX_ACCURACY_M

        try:
            value = float(self.setting("gps_max_accuracy_m") or DEFAULT_MAX_ACCURACY_M)
        except ValueError:
            return DEFAULT_MAX_ACCURACY_M
        return value if value > 0 else DEFAULT_MAX_ACCURACY_M

    @property
    def drafts(self) -> Drafts:
        from peacewatch.mobile.core.drafts import Drafts

        return Drafts(self.open_store)

    @property
    def reports(self) -> Reports:
        from peacewatch.mobile.core.reports import Reports

        return Reports(self.open_store)
