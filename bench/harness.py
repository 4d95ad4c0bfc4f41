"""What the bench scripts share: measuring a process, the suite run (sluice and DuckDB's
fused query on the shared benchmark's data) and the keyed diff (sluice parity and DuckDB's
full outer join). One place for each, used by bench.py, bench_diff.py and perf.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared", "bench"))
NOW = "2025-01-01T00:00:00"
IDS = [f"C{i:02d}" for i in range(1, 21)]
SUITE_CONFIG = os.path.join(HERE, "sluice.yaml")


@dataclass
class Run:
    """One measured process: wall seconds, peak RSS (MiB, from wait4), exit code, output."""

    wall: float
    rss_mib: float
    code: int
    out: str
    err: str


def run(cmd: list[str], cwd: str | None = None) -> Run:
    """Runs cmd to completion; wall time and the child's peak RSS come from wait4().
    Output goes through temporary files, so a chatty child cannot block on a full pipe.
    Linux counts the parent's RSS at the fork in the child's peak (exec keeps the larger
    high-water mark), so callers stay small: no pyarrow or data in the measuring process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(wall, usage.ru_maxrss / 1024, p.returncode,
                   out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def sluice_binary(path: str | None) -> str:
    """The sluice binary: `path`, else the release build in $CARGO_TARGET_DIR (or target/)."""
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
    sluice = path or os.path.join(target, "release", "sluice")
    if not os.path.exists(sluice):
        sys.exit(f"no sluice binary at {sluice}: run `cargo build --release` (or pass --sluice)")
    return sluice


def warm(*paths: str) -> None:
    """Reads files once, so every tool starts from the same warm page cache."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass


def expected_verdicts() -> dict[str, str]:
    """checks.json's expected outcome ("pass"/"fail") of C01..C20."""
    with open(os.path.join(SHARED, "checks.json")) as f:
        return {c["id"]: c["expect"] for c in json.load(f)["checks"]}


def paths(data: str) -> tuple[str, str]:
    """orders.parquet and orders_target.parquet of a shared-data folder."""
    return os.path.join(data, "orders.parquet"), os.path.join(data, "orders_target.parquet")


# ---- the 20-check suite ---------------------------------------------------------------

def suite_cmd(sluice: str, data: str, report: str, config: str = SUITE_CONFIG,
              extra: tuple[str, ...] = ()) -> list[str]:
    """`sluice check` of the suite (bench/sluice.yaml) on a shared-data folder, JSON report to `report`."""
    orders, target = paths(data)
    return [sluice, "-q", "check", "--config", config, "--var", f"ORDERS={orders}", "--var", f"TARGET={target}",
            "--now", NOW, "--format", "json", "--output", report, *extra]


def duckdb_fused(python: str, data: str, out: str) -> tuple[Run, dict]:
    """DuckDB's one-query reference (../shared/bench/duckdb/run_fused.py) with `python`:
    the process measurement and its result file (version, inner_seconds, checks)."""
    r = run([python, os.path.join(SHARED, "duckdb", "run_fused.py"), "--data-dir", data, "--now", NOW, "--out", out])
    if r.code != 0:
        sys.exit(f"duckdb ({python}) failed ({r.code}): {r.err}")
    with open(out) as f:
        return r, json.load(f)


def sluice_verdicts(report: dict) -> dict[str, str]:
    """C01..C20 pass/fail from a sluice JSON report (warn counts as pass)."""
    ours = {c["name"]: c["status"] for c in report["checks"]}
    return {cid: {"pass": "pass", "warn": "pass", "fail": "fail"}.get(ours.get(cid), ours.get(cid, "missing"))
            for cid in IDS}


def duckdb_verdicts(result: dict) -> dict[str, str]:
    """C01..C20 outcome from a run_fused.py result."""
    return {cid: result["checks"][cid]["outcome"] for cid in IDS}


def disagreements(expected: dict[str, str], *tools: dict[str, str]) -> list[str]:
    """The check ids where any tool's verdict differs from the expected one."""
    return [cid for cid in IDS if any(t[cid] != expected[cid] for t in tools)]


# ---- keyed diff -------------------------------------------------------------------------

DIFF_COLS = ["customer_id", "region", "status", "amount", "quantity", "created_at", "email"]

# The DuckDB side of the keyed diff: `python - orders target plain|dedup` prints one JSON line.
# plain: the full outer join a person would write; dedup: the same with duplicated keys set
# apart, as sluice does (the plain join multiplies them).
DUCK_DIFF = r"""
import duckdb, json, sys, time
orders, target, mode = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
t0 = time.perf_counter()
changed = " OR ".join(f"s.{c} IS DISTINCT FROM t.{c}" for c in %(cols)r)
if mode == "plain":
    q = f'''SELECT count(*) FILTER (WHERE t.order_id IS NULL) AS missing,
                   count(*) FILTER (WHERE s.order_id IS NULL) AS extra,
                   count(*) FILTER (WHERE s.order_id IS NOT NULL AND t.order_id IS NOT NULL AND ({changed})) AS changed
            FROM read_parquet('{orders}') s FULL OUTER JOIN read_parquet('{target}') t ON s.order_id = t.order_id'''
else:
    q = f'''WITH sd AS (SELECT order_id FROM read_parquet('{orders}') GROUP BY 1 HAVING count(*) > 1),
                 td AS (SELECT order_id FROM read_parquet('{target}') GROUP BY 1 HAVING count(*) > 1),
                 d AS (SELECT order_id FROM sd UNION SELECT order_id FROM td)
            SELECT count(*) FILTER (WHERE t.order_id IS NULL) AS missing,
                   count(*) FILTER (WHERE s.order_id IS NULL) AS extra,
                   count(*) FILTER (WHERE s.order_id IS NOT NULL AND t.order_id IS NOT NULL AND ({changed})) AS changed,
                   (SELECT count(*) FROM sd) AS dup_source, (SELECT count(*) FROM td) AS dup_target
            FROM read_parquet('{orders}') s FULL OUTER JOIN read_parquet('{target}') t ON s.order_id = t.order_id
            WHERE coalesce(s.order_id, t.order_id) NOT IN (SELECT order_id FROM d)'''
row = con.execute(q).fetchone()
names = [d[0] for d in con.description]
print(json.dumps({"version": duckdb.__version__, "seconds": time.perf_counter() - t0, **dict(zip(names, row))}))
""" % {"cols": DIFF_COLS}


def write_diff_config(path: str, orders: str, target: str) -> None:
    """A sluice config with one parity check of orders_target against orders, keys
    [order_id], every column compared (check name `rows`)."""
    with open(path, "w") as f:
        f.write(f"""datasets:
  orders:
    path: {orders}
  orders_target:
    path: {target}
    parity:
      - against: orders
        name: rows
        keys: [order_id]
        compare: all
""")


def diff_cmd(sluice: str, config: str, report: str, memory_limit: str) -> list[str]:
    """`sluice check` of the diff config (only orders_target's parity) under a memory limit."""
    return [sluice, "-q", "check", "--config", config, "--dataset", "orders_target",
            "--memory-limit", memory_limit, "--format", "json", "--output", report]


def duckdb_diff(python: str, script: str, orders: str, target: str, mode: str = "plain") -> tuple[Run, dict]:
    """Runs DUCK_DIFF (written to `script`) with `python`: the measurement and its counts."""
    if not os.path.exists(script):
        with open(script, "w") as f:
            f.write(DUCK_DIFF)
    r = run([python, script, orders, target, mode])
    if r.code != 0:
        sys.exit(f"duckdb diff ({python}) failed ({r.code}): {r.err}")
    return r, json.loads(r.out)


def diff_observed(report_path: str) -> dict:
    """The observed counts of the `rows` parity check in a sluice JSON report."""
    with open(report_path) as f:
        rows = next(c for c in json.load(f)["checks"] if c["name"] == "rows")
    return rows["observed"]["rows"]


def diff_rows(manifest: dict, observed: dict, ref: dict | None = None) -> list[tuple]:
    """(name, manifest's count or None, DuckDB's dedup count or None, sluice's count, agree)
    for missing, extra, changed and duplicated keys of each side."""
    r = ref or {}
    rows = [
        ("missing", manifest["target_dropped_rows"], r.get("missing"), observed["missing"]),
        ("extra", 0, r.get("extra"), observed["extra"]),
        ("changed", manifest["target_changed_amounts"], r.get("changed"), observed["changed"]),
        ("duplicate keys (source)", manifest["duplicate_order_id_values"], r.get("dup_source"),
         observed["duplicate_keys"]["source"]),
        ("duplicate keys (target)", None, r.get("dup_target"), observed["duplicate_keys"]["target"]),
    ]
    return [(n, m, d, s, (d is None or d == s) and (m is None or m == s)) for n, m, d, s in rows]
