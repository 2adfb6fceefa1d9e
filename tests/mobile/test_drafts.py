"""Tests for peacewatch.mobile.core.drafts: saving on every change, surviving SIGKILL and a full disk."""

from __future__ import annotations

import json
import os
import random
import resource
import select
import signal
import time
from pathlib import Path

import pytest

from peacewatch.mobile.core.drafts import Drafts
from peacewatch.mobile.core.errors import InvalidInput, NotFound, StorageFull
from peacewatch.mobile.core.store import Store
from tests.mobile.conftest import PIN
from tests.mobile.helpers import new_id


def test_save_load_list_discard(store: Store) -> None:
    drafts = Drafts(store)
    a, b = new_id(), new_id()
    assert drafts.save_draft(a, "incident", {"title": "first"}) == 1
    assert drafts.save_draft(a, "incident", {"title": "first, edited", "severity": 2}) == 2
    assert drafts.save_draft(b, "patrol", {"observations": "quiet"}) == 1
    loaded = drafts.load_draft(a)
    assert (loaded.kind, loaded.fields, loaded.revision, loaded.base_heads) == (
        "incident",
        {"title": "first, edited", "severity": 2},
        2,
        [],
    )
    assert {d.report_id for d in drafts.list_drafts()} == {a, b}
    assert drafts.list_drafts()[0].report_id == b  # most recently edited first
    assert drafts.discard(a) is True
    assert drafts.discard(a) is False
    with pytest.raises(NotFound):
        drafts.load_draft(a)
    assert drafts.count() == 1


def test_unicode_and_rtl_text_round_trips(store: Store) -> None:
    rid = new_id()
    fields = {"title": "هجوم على السوق", "description": "Élèves déplacés — 150"}
    Drafts(store).save_draft(rid, "incident", fields)
    assert Drafts(store).load_draft(rid).fields == fields


@pytest.mark.parametrize(
    ("report_id", "kind", "fields", "field"),
    [
        ("nope", "incident", {}, "report_id"),
        (None, "incident", {}, "report_id"),
        ("VALID", "sighting", {}, "kind"),
        ("VALID", "incident", ["not", "a", "dict"], "fields"),
        ("VALID", "incident", {"t": object()}, "fields"),
        ("VALID", "incident", {"t": float("nan")}, "fields"),
    ],
)
def test_bad_input_names_the_field(
    store: Store, report_id: object, kind: str, fields: object, field: str
) -> None:
    rid = new_id() if report_id == "VALID" else report_id
    with pytest.raises(InvalidInput) as info:
        Drafts(store).save_draft(rid, kind, fields)  # type: ignore[arg-type]
    assert info.value.field == field


# ----- crash proof ---------------------------------------------------------------------------


def _typist(store_path: Path, report_ids: list[str], ack_fd: int) -> None:
    """Child process: open the store and save edits as fast as it can, acking each after commit."""
    store = Store.open(store_path, PIN)
    drafts = Drafts(store)
    counters = {}
    for rid in report_ids:
        try:
            counters[rid] = drafts.load_draft(rid).fields["n"]
        except NotFound:
            counters[rid] = 0
    i = 0
    while True:
        rid = report_ids[i % len(report_ids)]
        counters[rid] += 1
        n = counters[rid]
        # Varying sizes so kills land in page splits, overflow pages and WAL growth.
        text = f"edit {n} " + "keystroke " * (n % 300)
        drafts.save_draft(rid, "incident", {"n": n, "description": text})
        os.write(ack_fd, f"{rid} {n}\n".encode())
        i += 1


def test_drafts_survive_sigkill_at_random_moments(store: Store, store_path: Path) -> None:
    rng = random.Random(20261124)
    report_ids = [new_id(), new_id()]
    store.close()
    acked = {rid: 0 for rid in report_ids}
    kills = 200
    deadline = time.monotonic() + 90
    for _ in range(kills):
        assert time.monotonic() < deadline, "crash test too slow"
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: never returns into pytest
            code = 0
            try:
                os.close(read_fd)
                _typist(store_path, report_ids, write_fd)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        # Kill after a random number of acknowledged saves (0 = while still opening), plus a random
        # sub-millisecond delay so the kill lands anywhere inside the next save.
        want = rng.choice([0, *range(1, 25)])
        buffer = b""
        give_up = time.monotonic() + 3
        while buffer.count(b"\n") < want and time.monotonic() < give_up:
            ready, _, _ = select.select([read_fd], [], [], 0.05)
            if ready:
                chunk = os.read(read_fd, 65536)
                if not chunk:
                    break
                buffer += chunk
        time.sleep(rng.uniform(0, 0.002))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), f"child ended by itself (status {status}): it failed"
        while chunk := os.read(read_fd, 65536):
            buffer += chunk
        os.close(read_fd)
        for line in buffer.decode().splitlines():
            rid, n = line.split()
            acked[rid] = max(acked[rid], int(n))

        with Store.open(store_path, PIN) as reopened:
            assert reopened.integrity_check() == "ok"
            drafts = Drafts(reopened)
            for rid in report_ids:
                if acked[rid] == 0:
                    continue
                fields = drafts.load_draft(rid).fields
                # Every acknowledged edit is there; at most the one in flight went further.
                assert fields["n"] in (acked[rid], acked[rid] + 1), (fields["n"], acked[rid])
                assert fields["description"].startswith(f"edit {fields['n']} ")
                acked[rid] = fields["n"]
    assert sum(acked.values()) > kills  # the children really were typing when killed


# ----- full disk -----------------------------------------------------------------------------


def test_full_disk_gives_storage_full_and_keeps_previous_draft(store: Store, store_path: Path) -> None:
    rid = new_id()
    Drafts(store).save_draft(rid, "incident", {"description": "saved before the disk filled"})
    store.close()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        outcome: dict[str, object] = {}
        try:
            os.close(read_fd)
            # Without this the kernel kills the process with SIGXFSZ instead of failing write().
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            child = Store.open(store_path, PIN)
            largest = max(p.stat().st_size for p in store_path.iterdir() if p.is_file())
            resource.setrlimit(resource.RLIMIT_FSIZE, (largest + 4096, resource.RLIM_INFINITY))
            try:
                Drafts(child).save_draft(rid, "incident", {"description": "x" * 2_000_000})
                outcome["error"] = None
            except StorageFull as exc:
                outcome["error"] = "StorageFull"
                outcome["message"] = str(exc)
            # The same session still reads the previous draft.
            outcome["after"] = Drafts(child).load_draft(rid).fields["description"]
        except BaseException as exc:  # report, do not hang the parent
            outcome["crash"] = repr(exc)
        finally:
            os.write(write_fd, json.dumps(outcome).encode())
            os._exit(0)
    os.close(write_fd)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_fd, "rb") as pipe:
        outcome = json.loads(pipe.read())
    assert "crash" not in outcome, outcome
    assert outcome["error"] == "StorageFull"
    assert outcome["after"] == "saved before the disk filled"
    with Store.open(store_path, PIN) as reopened:
        assert reopened.integrity_check() == "ok"
        assert Drafts(reopened).load_draft(rid).fields["description"] == "saved before the disk filled"
        # With room again, saving works.
        assert Drafts(reopened).save_draft(rid, "incident", {"description": "later"}) == 2
