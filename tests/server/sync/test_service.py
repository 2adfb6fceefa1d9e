"""Push ordering inside a batch (parents first, input order otherwise, forged cycles kept) and concurrent pushes."""

from __future__ import annotations

import itertools
import threading

from factories import Mission, report_body, version_entry
from peacewatch.server.auth.service import authenticate
from peacewatch.server.db.engine import WRITE
from peacewatch.server.sync.service import PushEntry, push, topological_order


def entry(vid: str, *parents: str) -> PushEntry:
    return PushEntry(report_id="r", version_id=vid, parents=list(parents), body={})


def test_ordered_batch_is_untouched() -> None:
    batch = [entry("a"), entry("b", "a"), entry("c", "b"), entry("x")]
    assert topological_order(batch) == [0, 1, 2, 3]


def test_every_permutation_of_a_dag_puts_parents_first() -> None:
    dag = [entry("a"), entry("b", "a"), entry("c", "a"), entry("d", "b", "c"), entry("e", "zzz-not-in-batch")]
    for perm in itertools.permutations(dag):
        order = [perm[i].version_id for i in topological_order(list(perm))]
        assert sorted(order) == ["a", "b", "c", "d", "e"]
        for e in perm:
            for p in e.parents:
                if p in order:
                    assert order.index(p) < order.index(e.version_id)


def test_cycles_and_repeats_still_yield_every_index_once() -> None:
    batch = [entry("a", "b"), entry("b", "a"), entry("c"), entry("c"), entry("d", "d")]
    order = topological_order(batch)
    assert sorted(order) == [0, 1, 2, 3, 4]
    assert order[:3] == [2, 3, 4]  # the ready ones first, the forged cycle after in input order


def test_the_same_version_pushed_twice_at_once_is_stored_once(mission: Mission) -> None:
    """Concurrent pushes of one version: one ``stored``, one ``duplicate``, never a key clash.

    Signed in with a token (no device row to touch, which would serialise the two by itself).
    """
    entry = version_entry(report_body(), "user:patrol_a")
    push_entry = PushEntry(report_id=entry["report_id"], version_id=entry["version_id"], parents=[],
                           body=entry["body"])
    barrier = threading.Barrier(2, timeout=30)
    answers: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with mission.engine.connect() as auth_conn:
                principal = authenticate(auth_conn, authorization=mission.headers("patrol_a")["Authorization"],
                                         device_credential=None)
            barrier.wait()
            with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                answers.append(push(conn, principal, [push_entry])["results"][0]["status"])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and sorted(answers) == ["duplicate", "stored"]
