#!/usr/bin/env python3
"""The performance envelope of issue 16 in one run: sluice against DuckDB 1.0, DuckDB 2.0 and
the scan floors, on generated data at the issue's sizes, with every target checked.

    python bench/perf.py [--only suite1m,suite5m,...] [--repeat 3] [--quick]
                         [--sluice PATH] [--duckdb-python PATH] [--duckdb2-python PATH]
                         [--duckdb-50m] [--json PATH]

Two Python environments (outside the repo):
    python3 -m venv /root/.cache/sluice-bench-venv            # runs this script and DuckDB 1.0
    /root/.cache/sluice-bench-venv/bin/pip install -r ../shared/bench/requirements.txt
    python3 -m venv /root/.cache/sluice-bench-duckdb2         # DuckDB 2.0 (optional)
    /root/.cache/sluice-bench-duckdb2/bin/pip install -r ../shared/bench/requirements-duckdb-latest.txt
and a release build of sluice (cargo build --release; or --sluice PATH). Then:
    /root/.cache/sluice-bench-venv/bin/python bench/perf.py \\
        --duckdb2-python /root/.cache/sluice-bench-duckdb2/bin/python --json perf.json
    ... --quick          # the same sections at small sizes: a couple of minutes

Data: the shared benchmark's orders (../shared/bench/gen_data.py, seeded, known defects,
manifest.json; bench/shared_data.py) in bench/data/n<rows>/, the long-format forecast
(bench/forecast_data.py) in bench/data/forecast_<S>x<H>x<L>/, and two 10-row files in
bench/data/startup/; each generated once, when missing. 50M rows take several minutes
and about 10 GB of RAM to generate (1.6 GB of Parquet a table).

Each process is measured alone: wall time and peak RSS (wait4; Linux counts the parent's
RSS at the fork in it, so this script keeps itself small, about 15 MiB). Within a section the tools
run alternately, --repeat times each; tables show the median and the best, and ratios are of
medians ("ratio" = the section's first row / that row). DuckDB's "query" rows are its time
in-process, after the Python imports (the shared harness's inner_seconds). sluice runs as a
whole process, start-up included.

Sections (full size; --quick size in brackets):
  suite1m   1M [100k] rows: the 20-check suite (bench/sluice.yaml, exactly as bench.py runs
            it, with --now) vs DuckDB 1.0's fused query (../shared/bench/duckdb/run_fused.py).
            Target: sluice <= 0.5x DuckDB's query in-process.
  suite5m   5M [500k] rows: the suite vs DuckDB 1.0 and 2.0's fused query (process and query),
            and the scan floors: DuckDB's `SELECT min(c)` of each of the 8 columns the suite
            reads (one decode of each; in-process), and sluice's own floor: one rows_satisfy
            over all 8 columns (`c IS NOT NULL AND ...`, samples off, --no-state), which
            Parquet metadata cannot answer. Targets: <= 0.4x DuckDB 2.0 (process and query),
            <= 1.15x each floor.
  suite50m  50M [1M] rows, --memory-limit 1G: the suite's verdicts as checks.json expects,
            peak RSS <= 1.5 GB, time <= 11x the 5M [500k] time (suite5m's in this run, else
            one run on 5M).
  diff10m   10M [500k] a side: keyed diff (a parity check, keys [order_id], every column,
            --memory-limit 4G, as bench_diff.py) vs DuckDB's full outer join (2.0 if given,
            else 1.0); counts against the generator's manifest. Target <= 0.5x.
  diff50m   50M [1M] a side, --memory-limit 2G: exact counts, peak RSS <= 3 GB. DuckDB only
            with --duckdb-50m (long).
  metadata  5M [500k] rows: a config of checks Parquet metadata can answer (row_count with
            bounds, not_null(order_id), range quantity 1..100, schema of the 8 columns) vs
            sluice's floor config of suite5m (a full scan). Target < 0.05x. Also prints the
            `queries` of the report's dataset (0 when nothing is read but metadata).
  startup   `sluice check --no-state` on a 10-row file with 3 checks (row_count, not_null,
            unique), CSV and Parquet: median of 20 runs (after one warm-up). Target < 20 ms.
  forecast  the forecast pack (completeness + quantiles_ordered + not_constant, long format)
            on 5000x100x20 = 10M [500x20x10] rows vs a plain scan that decodes the value
            column (rows_satisfy `value = value`); the four-column floor shown too.
            Target <= 2x the plain scan.

Prints the machine (cores, RAM, CPU) and sluice's version, a table per section, the verdict
agreement, and a summary of every target. --json writes every figure. Exits 1 if any verdict
or count disagrees (not for a missed target).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Callable

import forecast_data
import harness
import shared_data
from harness import IDS, NOW

SECTIONS = ["suite1m", "suite5m", "suite50m", "diff10m", "diff50m", "metadata", "startup", "forecast"]
FULL = {"suite1m": 1_000_000, "suite5m": 5_000_000, "suite50m": 50_000_000, "diff10m": 10_000_000,
        "diff50m": 50_000_000, "metadata": 5_000_000, "forecast": (5000, 100, 20)}
QUICK = {"suite1m": 100_000, "suite5m": 500_000, "suite50m": 1_000_000, "diff10m": 500_000,
         "diff50m": 1_000_000, "metadata": 500_000, "forecast": (500, 20, 10)}
GB = 1e9 / 2**20  # MiB in a (decimal) GB

# The 8 columns the suite reads, and sluice's floor over them.
COLUMNS = ["order_id", "customer_id", "region", "status", "amount", "quantity", "created_at", "email"]
FLOOR_CONDITION = " AND ".join(f"{c} IS NOT NULL" for c in COLUMNS)
SCHEMA = ("{ order_id: bigint, customer_id: bigint, region: varchar, status: varchar, amount: double, "
          "quantity: integer, created_at: timestamp, email: varchar }")

# DuckDB's scan floor: the minimum of each column, one query; prints version, query seconds
# and whether statistics had to be switched off. DuckDB 2.0 answers min() from the Parquet
# footer (its plan has no Parquet scan: a few ms, no decode), so when the plan shows no scan
# the statistics_propagation optimizer is disabled, which makes it decode the columns.
DUCK_FLOOR = r"""
import duckdb, json, sys, time
path, cols = sys.argv[1], sys.argv[2].split(",")
con = duckdb.connect()
q = f"SELECT {', '.join(f'min({c})' for c in cols)} FROM read_parquet('{path}')"
stats_off = "parquet" not in con.execute("EXPLAIN " + q).fetchall()[0][1].lower()
if stats_off:
    con.execute("SET disabled_optimizers = 'statistics_propagation'")
t0 = time.perf_counter()
con.execute(q).fetchall()
print(json.dumps({"version": duckdb.__version__, "seconds": time.perf_counter() - t0, "stats_off": stats_off}))
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class Sample:
    """One measured run: wall seconds, peak RSS MiB, in-process seconds (DuckDB), result."""

    wall: float
    rss: float
    inner: float | None = None
    payload: object = None


@dataclass
class Series:
    """Every run of one contender."""

    label: str
    walls: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    inner: list[float] = field(default_factory=list)
    payload: object = None

    def add(self, s: Sample) -> None:
        self.walls.append(s.wall)
        self.rss.append(s.rss)
        if s.inner is not None:
            self.inner.append(s.inner)
        self.payload = s.payload


@dataclass
class Contender:
    key: tuple
    label: str
    fn: Callable[[], Sample]


@dataclass
class Row:
    """A table row: a label and times (process or in-process), optional RSS and target."""

    label: str
    times: list[float]
    rss: float | None = None
    target: tuple[str, float] | None = None  # (op, limit) for first row / this row
    short: str | None = None  # the name in the summary (default: the label)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)


def fmt_target(op: str, limit: float, unit: str = "x") -> str:
    sym = {"<=": "≤", "<": "<"}[op]
    return f"{sym} {limit:g}{unit}" if unit == "x" else f"{sym} {limit:g} {unit}"


def met(value: float, op: str, limit: float) -> bool:
    return value <= limit if op == "<=" else value < limit


class Perf:
    def __init__(self, a: argparse.Namespace):
        self.a = a
        self.sluice = harness.sluice_binary(a.sluice)
        self.sizes = QUICK if a.quick else FULL
        self.tmp = tempfile.mkdtemp(prefix="sluice-perf-")
        self.cache: dict[tuple, Series] = {}
        self.results: dict[str, dict] = {}
        self.summary: list[dict] = []
        self.disagree: list[str] = []
        self.expected = harness.expected_verdicts()
        self.duck_versions: dict[str, str] = {}

    # ---- measuring ---------------------------------------------------------------------

    def measure(self, section: str, contenders: list[Contender], repeat: int | None = None) -> list[Series]:
        """Runs the contenders not measured yet in this invocation, alternately, `repeat`
        times each; returns every contender's series (measured earlier ones reused)."""
        repeat = repeat or self.a.repeat
        todo = [c for c in contenders if c.key not in self.cache]
        for c in todo:
            self.cache[c.key] = Series(c.label)
        for i in range(repeat if todo else 0):
            for c in todo:
                self.cache[c.key].add(c.fn())
            log(f"  {section}: run {i + 1}/{repeat} done")
        return [self.cache[c.key] for c in contenders]

    def tmpfile(self, name: str) -> str:
        return os.path.join(self.tmp, name)

    def sluice_run(self, cmd: list[str], report: str | None, ok_codes=(0, 1)) -> Sample:
        r = harness.run(cmd)
        if r.code not in ok_codes:
            sys.exit(f"sluice failed ({r.code}): {' '.join(cmd)}\n{r.err}")
        payload = None
        if report:
            with open(report) as f:
                payload = json.load(f)
        return Sample(r.wall, r.rss_mib, payload=payload if payload is not None else r.code)

    def suite(self, rows: int, extra: tuple[str, ...] = ()) -> Contender:
        data = shared_data.ensure(rows)
        report = self.tmpfile(f"suite-{rows}-{'-'.join(extra)}.json")
        tag = f" {' '.join(extra)}" if extra else ""
        return Contender(("suite", rows, extra), f"sluice suite{tag}",
                         lambda: self.sluice_run(harness.suite_cmd(self.sluice, data, report, extra=extra), report))

    def fused(self, python: str, which: str, rows: int) -> Contender:
        data = shared_data.ensure(rows)
        out = self.tmpfile(f"fused-{which}-{rows}.json")

        def fn() -> Sample:
            r, res = harness.duckdb_fused(python, data, out)
            self.duck_versions[which] = res["version"]
            return Sample(r.wall, r.rss_mib, res["inner_seconds"], res)
        return Contender(("fused", which, rows), f"DuckDB {which} fused", fn)

    def duck_floor(self, python: str, which: str, rows: int) -> Contender:
        orders, _ = harness.paths(shared_data.ensure(rows))
        script = self.tmpfile("duck_floor.py")
        with open(script, "w") as f:
            f.write(DUCK_FLOOR)

        def fn() -> Sample:
            r = harness.run([python, script, orders, ",".join(COLUMNS)])
            if r.code != 0:
                sys.exit(f"duckdb floor failed ({r.code}): {r.err}")
            res = json.loads(r.out)
            return Sample(r.wall, r.rss_mib, res["seconds"], res)
        return Contender(("duckfloor", which, rows), f"DuckDB {which} floor: min() of 8 columns", fn)

    def sluice_config(self, key: tuple, label: str, config: str, report: str, extra: tuple[str, ...] = ()) -> Contender:
        cmd = [self.sluice, "-q", "check", "--no-state", "--config", config, "--format", "json", "--output", report, *extra]
        return Contender(key, label, lambda: self.sluice_run(cmd, report))

    def sluice_floor(self, rows: int) -> Contender:
        orders, _ = harness.paths(shared_data.ensure(rows))
        cfg = self.tmpfile(f"floor-{rows}.yaml")
        with open(cfg, "w") as f:
            f.write(f"""version: 1
defaults: {{ samples: 0 }}
datasets:
  orders:
    path: {orders}
    checks:
      - rows_satisfy: {{ name: floor, condition: "{FLOOR_CONDITION}", max_invalid_pct: 1 }}
""")
        return self.sluice_config(("floor", rows), "sluice floor: rows_satisfy over 8 columns", cfg,
                                  self.tmpfile(f"floor-{rows}.json"))

    def duck2(self) -> tuple[str, str]:
        """(python, label) of the newest DuckDB given: 2.0 if --duckdb2-python, else 1.0."""
        if self.a.duckdb2_python:
            return self.a.duckdb2_python, "2.0"
        return self.a.duckdb_python, "1.0"

    # ---- reporting ---------------------------------------------------------------------

    def table(self, section: str, title: str, rows: list[Row], figures: list[tuple] = (),
              verdicts: tuple[bool, str] | None = None) -> None:
        """Prints a section's table; records its figures, targets and verdicts.
        figures: (name, value, unit, op, limit) absolute targets (peak RSS, ms)."""
        print(f"\n== {section}: {title}\n")
        print(f"{'':52} {'median s':>9} {'best s':>8} {'peak MiB':>9} {'ratio':>7} {'target':>8} {'met':>4}")
        subject = rows[0]
        out_rows = []
        for i, r in enumerate(rows):
            ratio = subject.median / r.median if i else None
            best_ratio = subject.best / r.best if i else None
            tgt = met_s = ""
            if r.target and ratio is not None:
                op, lim = r.target
                ok = met(ratio, op, lim)
                tgt, met_s = fmt_target(op, lim), "yes" if ok else "no"
                self.summary.append({"section": section, "target": f"{subject.short or subject.label} / {r.short or r.label}",
                                     "measured": round(ratio, 3), "best": round(best_ratio, 3),
                                     "limit": f"{op} {lim:g}x", "met": ok})
            rss = f"{r.rss:9.0f}" if r.rss is not None else f"{'':9}"
            rat = f"{ratio:6.2f}x" if ratio is not None else f"{'':7}"
            print(f"{r.label:52} {r.median:9.3f} {r.best:8.3f} {rss} {rat} {tgt:>8} {met_s:>4}")
            out_rows.append({"label": r.label, "median_s": r.median, "best_s": r.best, "times_s": r.times,
                             "peak_rss_mib": r.rss, "ratio": ratio, "best_ratio": best_ratio,
                             "target": f"{r.target[0]} {r.target[1]:g}x" if r.target else None})
        figs = []
        for name, value, unit, op, lim in figures:
            ok = met(value, op, lim)
            print(f"{name}: {value:.3g} {unit}  target {fmt_target(op, lim, unit)}  met {'yes' if ok else 'no'}")
            self.summary.append({"section": section, "target": name, "measured": round(value, 3), "best": None,
                                 "limit": f"{op} {lim:g} {unit}", "met": ok})
            figs.append({"name": name, "value": value, "unit": unit, "limit": f"{op} {lim:g}", "met": ok})
        if verdicts:
            ok, text = verdicts
            print(f"verdicts: {text}")
            if not ok:
                self.disagree.append(section)
        self.results[section] = {"title": title, "rows": out_rows, "figures": figs,
                                 "verdicts": {"agree": verdicts[0], "detail": verdicts[1]} if verdicts else None}

    def suite_verdicts(self, tools: dict[str, dict[str, str]]) -> tuple[bool, str]:
        bad = harness.disagreements(self.expected, *tools.values())
        names = ", ".join(["expected (checks.json)", *tools])
        if not bad:
            return True, f"{names} agree on all {len(IDS)} checks"
        detail = "; ".join(f"{cid}: expected {self.expected[cid]}, "
                           + ", ".join(f"{n} {t[cid]}" for n, t in tools.items()) for cid in bad)
        return False, f"DISAGREEMENT on {', '.join(bad)} ({detail})"

    # ---- sections ----------------------------------------------------------------------

    def suite1m(self) -> None:
        n = self.sizes["suite1m"]
        harness.warm(*harness.paths(shared_data.ensure(n)))
        sl, d1 = self.measure("suite1m", [self.suite(n), self.fused(self.a.duckdb_python, "1.0", n)])
        v1 = self.duck_versions["1.0"]
        self.table("suite1m", f"20-check suite on {n:,} rows vs DuckDB {v1} fused query", [
            Row("sluice suite (whole process)", sl.walls, max(sl.rss), short="sluice"),
            Row(f"DuckDB {v1} fused (whole process)", d1.walls, max(d1.rss)),
            Row(f"DuckDB {v1} fused (query in-process)", d1.inner, None, ("<=", 0.5), f"DuckDB {v1} query"),
        ], verdicts=self.suite_verdicts({"sluice": harness.sluice_verdicts(sl.payload),
                                         f"DuckDB {v1}": harness.duckdb_verdicts(d1.payload)}))

    def suite5m(self) -> None:
        n = self.sizes["suite5m"]
        harness.warm(*harness.paths(shared_data.ensure(n)))
        py2, w2 = self.duck2()
        contenders = [self.suite(n), self.fused(self.a.duckdb_python, "1.0", n)]
        if self.a.duckdb2_python:
            contenders.append(self.fused(py2, "2.0", n))
        contenders.append(self.duck_floor(self.a.duckdb_python, "1.0", n))
        if self.a.duckdb2_python:
            contenders.append(self.duck_floor(py2, "2.0", n))
        contenders.append(self.sluice_floor(n))
        series = self.measure("suite5m", contenders)
        sl, d1 = series[0], series[1]
        k = 3 if self.a.duckdb2_python else 2
        d2 = series[2] if self.a.duckdb2_python else d1
        dfloors, sfloor = series[k:-1], series[-1]
        v1 = self.duck_versions["1.0"]
        v2 = self.duck_versions["2.0"] if self.a.duckdb2_python else v1
        rows = [Row("sluice suite (whole process)", sl.walls, max(sl.rss), short="sluice"),
                Row(f"DuckDB {v1} fused (whole process)", d1.walls, max(d1.rss),
                    None if self.a.duckdb2_python else ("<=", 0.4), f"DuckDB {v1} process"),
                Row(f"DuckDB {v1} fused (query in-process)", d1.inner, None,
                    None if self.a.duckdb2_python else ("<=", 0.4), f"DuckDB {v1} query")]
        if self.a.duckdb2_python:
            rows += [Row(f"DuckDB {v2} fused (whole process)", d2.walls, max(d2.rss), ("<=", 0.4), f"DuckDB {v2} process"),
                     Row(f"DuckDB {v2} fused (query in-process)", d2.inner, None, ("<=", 0.4), f"DuckDB {v2} query")]
        for fl in dfloors:
            off = ", stats off" if fl.payload["stats_off"] else ""
            rows.append(Row(f"DuckDB {fl.payload['version']} floor: min() x8 cols (query{off})", fl.inner, None,
                            ("<=", 1.15), f"DuckDB {fl.payload['version']} floor"))
        rows.append(Row("sluice floor: rows_satisfy over 8 cols", sfloor.walls, max(sfloor.rss), ("<=", 1.15),
                        "sluice floor"))
        tools = {"sluice": harness.sluice_verdicts(sl.payload), f"DuckDB {v1}": harness.duckdb_verdicts(d1.payload)}
        if self.a.duckdb2_python:
            tools[f"DuckDB {v2}"] = harness.duckdb_verdicts(d2.payload)
        title = f"20-check suite on {n:,} rows vs DuckDB's fused query and the scan floors"
        if not self.a.duckdb2_python:
            title += " (no --duckdb2-python: the 0.4x target is against DuckDB 1.0)"
        floor_ok = sfloor.payload["status"] == "passed"
        verdict = self.suite_verdicts(tools)
        if not floor_ok:
            verdict = (False, verdict[1] + f"; sluice floor check {sfloor.payload['status']} (expected passed)")
        self.table("suite5m", title, rows, verdicts=verdict)

    def suite50m(self) -> None:
        n, n5 = self.sizes["suite50m"], self.sizes["suite5m"]
        if n >= 50_000_000 and not os.path.exists(os.path.join(shared_data.HERE, "data", f"n{n}", "orders.parquet")):
            log(f"suite50m: generating {n:,} rows (several minutes, about 10 GB of RAM) ...")
        data = shared_data.ensure(n)
        harness.warm(*harness.paths(data))
        (big,) = self.measure("suite50m", [self.suite(n, ("--memory-limit", "1G"))])
        harness.warm(*harness.paths(shared_data.ensure(n5)))
        (small,) = self.measure("suite50m (5M reference)", [self.suite(n5)], repeat=1)
        limit = 1.5 * GB
        self.table("suite50m", f"20-check suite on {n:,} rows with --memory-limit 1G, against {n5:,} rows", [
            Row(f"sluice suite, {n:,} rows, --memory-limit 1G", big.walls, max(big.rss), short=f"sluice {n:,} rows"),
            Row(f"sluice suite, {n5:,} rows", small.walls, max(small.rss), ("<=", 11), f"sluice {n5:,} rows"),
        ], figures=[(f"peak RSS at {n:,} rows (MiB)", max(big.rss), "MiB", "<=", round(limit))],
            verdicts=self.suite_verdicts({"sluice": harness.sluice_verdicts(big.payload)}))

    def diff(self, section: str, n: int, memory_limit: str, with_duckdb: bool, rss_limit_gb: float | None) -> None:
        data = shared_data.ensure(n)
        orders, target = harness.paths(data)
        with open(os.path.join(data, "manifest.json")) as f:
            manifest = json.load(f)
        harness.warm(orders, target)
        cfg = self.tmpfile(f"diff-{n}.yaml")
        harness.write_diff_config(cfg, orders, target)
        report = self.tmpfile(f"diff-{n}.json")
        cmd = harness.diff_cmd(self.sluice, cfg, report, memory_limit)
        contenders = [Contender(("diff", n, memory_limit), "sluice parity", lambda: self.sluice_run(cmd, None))]
        py, which = self.duck2()
        script = self.tmpfile("duck_diff.py")
        if with_duckdb:
            def fn() -> Sample:
                r, res = harness.duckdb_diff(py, script, orders, target, "plain")
                return Sample(r.wall, r.rss_mib, res["seconds"], res)
            contenders.append(Contender(("duckdiff", which, n), f"DuckDB {which} full outer join", fn))
        series = self.measure(section, contenders)
        observed = harness.diff_observed(report)
        sl = series[0]
        rows = [Row(f"sluice parity (--memory-limit {memory_limit}, {observed['join']} join)", sl.walls, max(sl.rss),
                    short="sluice parity")]
        if with_duckdb:
            d = series[1]
            v = d.payload["version"]
            rows += [Row(f"DuckDB {v} full outer join (whole process)", d.walls, max(d.rss), ("<=", 0.5),
                         f"DuckDB {v} join process"),
                     Row(f"DuckDB {v} full outer join (query in-process)", d.inner, None, ("<=", 0.5),
                         f"DuckDB {v} join query")]
        figures = []
        if rss_limit_gb:
            figures.append((f"peak RSS at {n:,} a side (MiB)", max(sl.rss), "MiB", "<=", round(rss_limit_gb * GB)))
        counts = harness.diff_rows(manifest, observed)
        text = ", ".join(f"{name} {s}" + ("" if m is None else f" (manifest {m})") for name, m, _, s, _ in counts)
        ok = all(c[4] for c in counts)
        self.table(section, f"keyed diff of {n:,} vs {manifest['target_rows']:,} rows, key order_id, "
                            f"{len(harness.DIFF_COLS)} columns compared", rows, figures,
                   verdicts=(ok, ("counts agree with the manifest: " if ok else "COUNTS DISAGREE: ") + text))

    def diff10m(self) -> None:
        self.diff("diff10m", self.sizes["diff10m"], "4G", True, None)

    def diff50m(self) -> None:
        self.diff("diff50m", self.sizes["diff50m"], "2G", self.a.duckdb_50m, 3)

    def metadata(self) -> None:
        n = self.sizes["metadata"]
        orders, _ = harness.paths(shared_data.ensure(n))
        harness.warm(orders)
        cfg = self.tmpfile(f"metadata-{n}.yaml")
        with open(cfg, "w") as f:
            f.write(f"""version: 1
datasets:
  orders:
    path: {orders}
    checks:
      - row_count: {{ between: [1, 1000000000] }}
      - not_null: order_id
      - range: {{ column: quantity, min: 1, max: 100 }}
      - schema: {{ columns: {SCHEMA} }}
""")
        meta = self.sluice_config(("metadata", n), "sluice metadata-only checks", cfg, self.tmpfile(f"metadata-{n}.json"))
        m, fl = self.measure("metadata", [meta, self.sluice_floor(n)])
        q_meta = m.payload["datasets"][0]["queries"]
        q_floor = fl.payload["datasets"][0]["queries"]
        ok = m.payload["status"] == "passed" and fl.payload["status"] == "passed"
        self.table("metadata", f"checks Parquet metadata can answer vs a full scan, {n:,} rows", [
            Row(f"sluice metadata-only: 4 checks (queries: {q_meta})", m.walls, max(m.rss), short="metadata-only"),
            Row(f"sluice floor: rows_satisfy over 8 cols (queries: {q_floor})", fl.walls, max(fl.rss), ("<", 0.05),
                "full scan (sluice floor)"),
        ], verdicts=(ok, f"metadata-only {m.payload['status']}, floor {fl.payload['status']} (expected: both passed); "
                         f"queries of the dataset: metadata-only {q_meta}, floor {q_floor}"))
        self.results["metadata"]["queries"] = {"metadata_only": q_meta, "floor": q_floor}

    def startup(self) -> None:
        folder = os.path.join(shared_data.HERE, "data", "startup")
        os.makedirs(folder, exist_ok=True)
        csv = os.path.join(folder, "tiny.csv")
        pq_path = os.path.join(folder, "tiny.parquet")
        ids = list(range(1, 11))
        names = [f"n{i}" for i in ids]
        with open(csv, "w") as f:
            f.write("id,name\n" + "".join(f"{i},{s}\n" for i, s in zip(ids, names)))
        # pyarrow in a child: this process stays small (a child's peak RSS counts its parent's).
        subprocess.run([sys.executable, "-c", "import sys, pyarrow as pa, pyarrow.parquet as pq; "
                        "pq.write_table(pa.table({'id': pa.array(range(1, 11), pa.int64()), "
                        "'name': [f'n{i}' for i in range(1, 11)]}), sys.argv[1])", pq_path], check=True)
        contenders = []
        for kind, path in (("CSV", csv), ("Parquet", pq_path)):
            cfg = self.tmpfile(f"startup-{kind}.yaml")
            with open(cfg, "w") as f:
                f.write(f"""version: 1
datasets:
  tiny:
    path: {path}
    checks:
      - row_count: {{ min: 1 }}
      - not_null: id
      - unique: id
""")
            cmd = [self.sluice, "-q", "check", "--no-state", "--config", cfg]
            harness.run(cmd)  # warm-up: the binary into the page cache
            contenders.append(Contender(("startup", kind), f"sluice check, 10-row {kind}, 3 checks",
                                        lambda cmd=cmd: self.sluice_run(cmd, None, ok_codes=(0, 1))))
        series = self.measure("startup", contenders, repeat=20)
        codes = {s.label: s.payload for s in series}
        ok = all(c == 0 for c in codes.values())
        # No ratio here: the targets are absolute (ms).
        print(f"\n== startup: `sluice check --no-state`, 10-row file, 3 checks, median of 20\n")
        print(f"{'':52} {'median ms':>10} {'best ms':>8} {'peak MiB':>9} {'target':>8} {'met':>4}")
        rows, figs = [], []
        for s in series:
            med, best = statistics.median(s.walls) * 1000, min(s.walls) * 1000
            good = med < 20
            print(f"{s.label:52} {med:10.1f} {best:8.1f} {max(s.rss):9.0f} {'< 20 ms':>8} {'yes' if good else 'no':>4}")
            rows.append({"label": s.label, "median_s": med / 1000, "best_s": best / 1000, "times_s": s.walls,
                         "peak_rss_mib": max(s.rss), "target": "< 20 ms"})
            self.summary.append({"section": "startup", "target": f"start-up, {s.label.split(', ')[1]}: median ms", "measured": round(med, 1),
                                 "best": round(best, 1), "limit": "< 20 ms", "met": good})
        text = "every run exited 0 (all 3 checks pass)" if ok else f"EXIT CODES: {codes}"
        print(f"verdicts: {text}")
        if not ok:
            self.disagree.append("startup")
        self.results["startup"] = {"title": "start-up", "rows": rows, "figures": figs,
                                   "verdicts": {"agree": ok, "detail": text}}

    def forecast(self) -> None:
        S, H, L = self.sizes["forecast"]
        folder = forecast_data.ensure(S, H, L)
        cfg = os.path.join(folder, "sluice.yaml")
        harness.warm(os.path.join(folder, "forecast.parquet"))
        cs = [self.sluice_config(("forecast", S, H, L, ds), label, cfg, self.tmpfile(f"forecast-{ds}.json"),
                                 ("--dataset", ds))
              for ds, label in (("pack", "forecast pack"),
                                ("plain", f"plain scan: rows_satisfy {forecast_data.PLAIN}"),
                                ("floor", "floor: rows_satisfy over the pack's 4 cols"))]
        pack, plain, floor = self.measure("forecast", cs)
        statuses = {"pack": pack.payload["status"], "plain": plain.payload["status"], "floor": floor.payload["status"]}
        bad = [c["name"] for c in pack.payload["checks"] if c["status"] != "pass"]
        ok = all(s == "passed" for s in statuses.values())
        self.table("forecast", f"forecast pack on {S * H * L:,} rows ({S} series x {H} horizons x {L} levels)", [
            Row("forecast pack (3 checks)", pack.walls, max(pack.rss), short="forecast pack"),
            Row(plain.label, plain.walls, max(plain.rss), ("<=", 2), "plain scan"),
            Row(floor.label, floor.walls, max(floor.rss)),
        ], verdicts=(ok, "pack, plain and floor all pass, as the complete ordered forecast expects" if ok
                     else f"UNEXPECTED: {statuses}, failing pack checks {bad}"))


def machine() -> dict:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = next(int(l.split()[1]) for l in f if l.startswith("MemTotal")) * 1024
    except (OSError, StopIteration):
        pass
    return {"cores": os.cpu_count(), "ram_gib": round(mem / 2**30, 1), "cpu": model or platform.processor(),
            "os": f"{platform.system()} {platform.release()}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections (default all: {','.join(SECTIONS)})")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each tool per section (default 3; startup: 20)")
    ap.add_argument("--quick", action="store_true", help="the same sections at small sizes")
    ap.add_argument("--sluice", default=None, help="sluice binary (default: release build in $CARGO_TARGET_DIR or target/)")
    ap.add_argument("--duckdb-python", default=sys.executable,
                    help="Python with DuckDB 1.0 (default: this one)")
    ap.add_argument("--duckdb2-python", default=None, help="Python with DuckDB 2.0 (optional)")
    ap.add_argument("--duckdb-50m", action="store_true", help="also run DuckDB's join in diff50m (long)")
    ap.add_argument("--json", default=None, help="write every figure to this file")
    a = ap.parse_args()
    only = [s.strip() for s in a.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        ap.error(f"unknown section(s) {', '.join(unknown)}; sections: {', '.join(SECTIONS)}")

    p = Perf(a)
    version = harness.run([p.sluice, "--version"]).out.strip()
    m = machine()
    print(f"{version} ({p.sluice}); {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['cpu']}; {m['os']}")
    print(f"{'quick sizes' if a.quick else 'full sizes'}; {a.repeat} runs per tool; sections: {', '.join(only)}")
    for s in SECTIONS:
        if s in only:
            log(f"{s} ...")
            getattr(p, s)()

    print("\n== summary\n")
    print(f"{'section':9} {'target':56} {'measured':>9} {'best':>7} {'limit':>10} {'met':>4}")
    for t in p.summary:
        best = "" if t["best"] is None else f"{t['best']:g}"
        print(f"{t['section']:9} {t['target']:56} {t['measured']:>9g} {best:>7} {t['limit']:>10} "
              f"{'yes' if t['met'] else 'no':>4}")
    met_n = sum(t["met"] for t in p.summary)
    print(f"\ntargets met: {met_n}/{len(p.summary)}; verdicts: "
          + ("all agree" if not p.disagree else f"DISAGREEMENT in {', '.join(p.disagree)}"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"sluice_version": version, "machine": m, "quick": a.quick, "repeat": a.repeat,
                       "sections": p.results, "summary": p.summary, "disagree": p.disagree}, f, indent=1)
        print(f"wrote {a.json}")
    sys.exit(1 if p.disagree else 0)


if __name__ == "__main__":
    main()
