"""Export benchmark: 10,000 and 100,000 synthetic reports -> CSV, GeoJSON, XLSX, PDF.

Each measurement runs in its own child process so its peak memory (ru_maxrss) is its own. Records
are generated lazily, as the database query yields them, so memory shows what the writer keeps.
Generation CPU time is measured alone and subtracted, leaving the writer's own CPU time (CPU, not
wall, time: a shared machine's other work then does not count against a writer).

Baselines measured in the same run:
* ``csv-plain``: ``csv.writer`` over the same records' raw fields (no labels, HXL, MGRS or DTG);
* ``json-whole``: ``json.dumps`` of the whole list of GeoJSON features at once (the obvious
  non-streaming GeoJSON);
* ``xlsx-openpyxl``: openpyxl's write-only mode used as cheaply as it goes (plain values appended,
  no cell objects or styles, same per-kind sheets and flattened rows): what the XLSX writer used
  before it moved to XlsxWriter, minus its styling.

Targets (issue 8): CSV <= 5 s, XLSX <= 30 s, PDF summary <= 10 s at 100,000 reports; CSV and
GeoJSON peak memory independent of the number of reports.

Run: ``.venv/bin/python bench/exports.py`` (``--quick``: 1,000 and 10,000 reports).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

# The synthetic records are a test helper (tests/synthetic_reports.py), not part of the server.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

TARGETS_S = {"csv": 5.0, "xlsx": 30.0, "pdf": 10.0}
STREAMED = ("csv", "geojson")
CASES = ("generate", "csv-plain", "csv", "json-whole", "geojson", "xlsx-openpyxl", "xlsx", "pdf")


class _Sink:
    """A binary file that only counts what it is given (so disk speed is not measured)."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


class _TextSink:
    """Encodes text to UTF-8 into a `_Sink`, as an HTTP response or file would."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink

    def write(self, text: str) -> int:
        return self.sink.write(text.encode("utf-8"))


def _maxrss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _case(case: str, records: Iterator[dict[str, Any]], sink: _Sink) -> None:
    import synthetic_reports as synthetic

    from peacewatch.server.exports.csv_hxl import write_csv
    from peacewatch.server.exports.geojson import feature, write_geojson
    from peacewatch.server.exports.pdf import write_pdf
    from peacewatch.server.exports.records import Labels
    from peacewatch.server.exports.xlsx import write_xlsx

    labels = Labels("en")
    if case == "generate":
        for _ in records:
            pass
    elif case == "csv-plain":
        writer = csv.writer(_TextSink(sink))
        for r in records:
            loc = r["location"]
            cas = r["casualties"]
            writer.writerow([r["id"], r["kind"], r["category"], r["event_time"], r.get("received_at"), loc["lat"],
                             loc["lon"], loc.get("precision_m"), loc.get("place"), r["title"], r["description"],
                             r["severity"], cas["killed"], cas["injured"], cas["abducted"], cas["displaced"],
                             r["contingent"], r["author"], r["language"], r["review_status"],
                             r["confidentiality"], r["in_conflict"], r["version_id"]])
    elif case == "csv":
        write_csv(records, sink, labels=labels)
    elif case == "json-whole":
        everything = {"type": "FeatureCollection", "features": [feature(r, labels) for r in records]}
        sink.write(json.dumps(everything, ensure_ascii=False).encode("utf-8"))
    elif case == "geojson":
        write_geojson(records, sink, labels=labels)
    elif case == "xlsx-openpyxl":
        _openpyxl_plain(records, sink, labels)
    elif case == "xlsx":
        with tempfile.TemporaryFile() as out:
            write_xlsx(records, out, labels=labels)
            sink.size = out.tell()
    elif case == "pdf":
        out = io.BytesIO()
        write_pdf(records, out, labels=labels, places=synthetic.PLACES, hexagons=synthetic.hexagons())
        sink.size = out.tell()
    else:
        raise SystemExit(f"unknown case {case!r}")


def _openpyxl_plain(records: Iterator[dict[str, Any]], sink: _Sink, labels: Any) -> None:
    from openpyxl import Workbook

    from peacewatch.server.exports.records import KIND_ORDER, columns_for, flatten, utc_naive

    workbook = Workbook(write_only=True)
    sheets = {}
    for kind in KIND_ORDER:
        columns = columns_for(kind)
        times = [i for i, c in enumerate(columns) if c.type == "datetime"]
        sheets[kind] = (workbook.create_sheet(kind), [c.key for c in columns], times)
    for r in records:
        ws, keys, times = sheets[r["kind"]]
        row = flatten(r, labels)
        cells = [row[k] for k in keys]
        for i in times:
            if cells[i] is not None:
                cells[i] = utc_naive(cells[i])
        ws.append(cells)
    with tempfile.TemporaryFile() as out:
        workbook.save(out)
        sink.size = out.tell()


def _child(case: str, n: int) -> dict[str, Any]:
    """Run one case in this process; return wall and CPU seconds, output size, peak memory growth."""
    import synthetic_reports as synthetic

    # Warm up this case alone (imports, taxonomy, fonts) so one-off start-up is not counted and
    # the memory baseline is this writer's, not another's.
    _case(case, synthetic.records(50, seed=9), _Sink())
    start_rss = _maxrss_kb()
    sink = _Sink()
    cpu0, t0 = _cpu_s(), time.perf_counter()
    _case(case, synthetic.records(n, seed=3), sink)
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu_s() - cpu0, "bytes": sink.size,
            "peak_growth_mb": (_maxrss_kb() - start_rss) / 1024}


def _run(case: str, n: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", case, str(n)], check=True, capture_output=True,
                         text=True, timeout=900, env=os.environ | {"MPLBACKEND": "Agg"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 reports instead of 10k and 100k")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child[0], int(args.child[1]))))
        return

    sizes = (1_000, 10_000) if args.quick else (10_000, 100_000)
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for n in sizes:
        for case in CASES:
            results[case, n] = _run(case, n)
            print(f"  ran {case:<13} n={n:>7,}: {results[case, n]['cpu']:.2f} s CPU", file=sys.stderr, flush=True)

    load = os.getloadavg()[0]
    cpu0 = _cpu_s()
    sum(i * i for i in range(3_000_000))  # a fixed pure-Python workload: compare machines and runs
    calibration = _cpu_s() - cpu0
    print(f"\nExports benchmark ({'quick' if args.quick else 'full'}); load average {load:.1f} on {os.cpu_count()} CPUs; "
          f"calibration loop {calibration:.2f} s CPU (about 0.15 s on an idle modern core).")
    print("writer s = CPU seconds of the case minus CPU seconds of generating the records alone\n"
          "(CPU time, not wall time, so other work on a shared machine does not count against a writer)\n")
    print(f"{'case':<14}{'reports':>9}{'wall s':>8}{'cpu s':>8}{'writer s':>10}{'MB out':>9}{'peak +MB':>10}  note")
    for n in sizes:
        gen = results["generate", n]["cpu"]
        for case in CASES:
            r = results[case, n]
            writer_s = max(r["cpu"] - gen, 0.0) if case != "generate" else r["cpu"]
            note = ""
            if case == "csv":
                plain = max(results["csv-plain", n]["cpu"] - gen, 1e-9)
                note = f"{writer_s / plain:.2f}x csv-plain writer time"
            elif case == "geojson":
                whole = results["json-whole", n]
                note = (f"{writer_s / max(whole['cpu'] - gen, 1e-9):.2f}x json-whole writer time, "
                        f"{r['peak_growth_mb'] / max(whole['peak_growth_mb'], 1e-9):.2f}x its memory")
            elif case == "xlsx":
                plain = max(results["xlsx-openpyxl", n]["cpu"] - gen, 1e-9)
                note = f"{writer_s / plain:.2f}x xlsx-openpyxl writer time"
            if case in TARGETS_S and n == max(sizes) and not args.quick:
                verdict = "ok" if writer_s <= TARGETS_S[case] else "OVER"
                note = (note + "; " if note else "") + f"target {TARGETS_S[case]:g} s: {verdict}"
            print(f"{case:<14}{n:>9,}{r['seconds']:>8.2f}{r['cpu']:>8.2f}{writer_s:>10.2f}{r['bytes'] / 1e6:>9.1f}"
                  f"{r['peak_growth_mb']:>10.1f}  {note}")
    small, large = sizes
    print(f"\nPeak memory growth, {large:,} vs {small:,} reports (x{large // small} the input):")
    for case in ("csv", "geojson", "json-whole", "xlsx-openpyxl", "xlsx", "pdf"):
        a, b = results[case, small]["peak_growth_mb"], results[case, large]["peak_growth_mb"]
        print(f"  {case:<14}{a:>8.1f} MB -> {b:>8.1f} MB  (ratio {b / max(a, 0.1):.2f})")


if __name__ == "__main__":
    main()
