"""A simulated tablet for end-to-end tests: the real encrypted store, enrolled with the server's device id."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from peacewatch.mobile.core.attachments import AttachmentRef, Attachments
from peacewatch.mobile.core.drafts import Drafts
from peacewatch.mobile.core.keys import TEST_KDF
from peacewatch.mobile.core.reports import Reports
from peacewatch.mobile.core.store import Store
from peacewatch.mobile.core.sync_client import SyncClient
from peacewatch.mobile.core.sync_store import LocalStore

PIN = "4711"


class Tablet:
    """One enrolled tablet: its store (cheap KDF), report helpers and a sync client factory."""

    def __init__(self, path: Path, *, username: str, device_id: str, credential: str) -> None:
        self.username = username
        self.device_id = device_id
        self.credential = credential
        self.store = Store.create(path, PIN, kdf=TEST_KDF)
        # The enrolled device id is part of every version id the server recomputes.
        with self.store.transaction() as conn:
            self.store.set_meta(conn, "device_id", device_id)
        self.drafts = Drafts(self.store)
        self.reports = Reports(self.store)
        self.attachments = Attachments(self.store)
        self.local = LocalStore(self.store)

    def file(self, body: dict[str, Any]) -> str:
        """Write ``body`` as a draft and finalise it; returns the new version id."""
        fields = {k: v for k, v in body.items() if k not in ("id", "kind")}
        self.drafts.save_draft(body["id"], body["kind"], fields)
        result = self.reports.finalise(body["id"])
        assert result.ok, result.errors
        assert result.version_id is not None
        return result.version_id

    def edit(self, report_id: str, **changes: Any) -> str:
        """Edit the newest head of a report (``changes`` replace top-level fields); finalise; return the id."""
        draft = self.reports.start_edit(report_id)
        fields = dict(draft.fields) | changes
        self.drafts.save_draft(report_id, draft.kind, fields)
        result = self.reports.finalise(report_id)
        assert result.ok, result.errors
        assert result.version_id is not None
        return result.version_id

    def attach(self, data: bytes, name: str, media_type: str = "image/jpeg") -> AttachmentRef:
        return self.attachments.put_bytes(data, media_type=media_type, name=name)

    def client(self, session: Any, base_url: str, **kwargs: Any) -> SyncClient:
        return SyncClient(session, base_url, self.credential, self.local, **kwargs)

    def version_ids(self, *, origin: str | None = None) -> list[str]:
        sql = "SELECT version_id FROM versions" + (" WHERE origin = ?" if origin else "")
        return [r[0] for r in self.store.query(sql, (origin,) if origin else ())]

    def close(self) -> None:
        self.store.close()


def enrolled_tablets(folder: Path, devices: dict[str, tuple[str, str]], names: Iterable[str]) -> dict[str, Tablet]:
    """A tablet per user name, each with the device id and credential the server enrolled for it."""
    return {u: Tablet(folder / f"tablet-{u}", username=u, device_id=devices[u][0], credential=devices[u][1])
            for u in names}
