"""Pull fan-out: a version's entry is built once per redaction class and reused by every caller."""

from __future__ import annotations

from typing import Any

import pytest

from factories import Mission, report_body, version_entry
from peacewatch.server.sync import service

PUSH, PULL = "/api/v1/sync/push", "/api/v1/sync/pull"


def _pull(mission: Mission, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = mission.client.get(PULL, params={"since": 0, "limit": 1000}, headers=headers)
    assert r.status_code == 200, r.text
    return [c for c in r.json()["changes"] if c["kind"] == "version"]


def test_many_devices_pulling_the_same_versions_build_each_entry_once_per_class(
        mission: Mission, monkeypatch: pytest.MonkeyPatch) -> None:
    bodies = [report_body(kind="hr_concern", category="arbitrary_detention") for _ in range(3)]
    names = {b["id"]: b["victims"][0]["name"] for b in bodies}
    assert all(names.values())  # the test can fail: there is a name to redact
    device = mission.device_id("patrol_a")
    r = mission.client.post(PUSH, json={"versions": [version_entry(b, device) for b in bodies]},
                            headers=mission.device_headers("patrol_a"))
    assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"stored"}, r.text
    built: list[str] = []
    real = service._version_out

    def counting(principal: Any, row: Any, v: Any) -> dict[str, Any]:
        built.append(row["ref"])
        return real(principal, row, v)

    monkeypatch.setattr(service, "_version_out", counting)
    first = _pull(mission, mission.headers("commander_a"))
    assert len(first) == 3 and len(built) == 3
    assert all(c["body"]["victims"][0]["name"] is None for c in first)
    # Other callers of the same class: the same bytes, nothing built again.
    assert _pull(mission, mission.headers("analyst")) == first
    assert _pull(mission, mission.headers("commander_a")) == first
    assert len(built) == 3
    # Another redaction class gets its own entries: the protection team reads the names.
    protected = _pull(mission, mission.headers("protection"))
    assert len(built) == 6
    assert all(c["body"]["victims"][0]["name"] == names[c["report_id"]] for c in protected)
