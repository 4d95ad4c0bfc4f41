#!/usr/bin/env python3
"""Keyed diff: sluice parity vs DuckDB's full outer join, on the same two tables, one run.

    python3 bench/bench_diff.py [--rows 10000000] [--repeat 3] [--memory-limit 4G]
                                [--sluice PATH] [--duckdb-python PATH]

1. Generates ../shared/bench data for --rows if missing (orders, and orders_target =
   orders with rows removed and amounts changed; ground truth in manifest.json).
2. Runs, alternately, --repeat times each:
   - sluice: a parity check of orders_target against orders, keys [order_id], every
     column compared, under --memory-limit;
   - DuckDB: the full outer join on order_id comparing the same 7 columns with
     IS DISTINCT FROM, counting missing / extra / changed rows (the query a person
     would write).
   Wall time and peak RSS of each process come from wait4().
3. Cross-checks the counts: sluice's against the generator's manifest and against a
   second DuckDB query that, like sluice, sets duplicated keys apart (the plain join
   multiplies them). Exits 1 on any disagreement.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

import harness
import shared_data
from harness import DIFF_COLS as COLS


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-limit", default="4G", help="sluice's --memory-limit (default 4G)")
    ap.add_argument("--sluice", default=None)
    ap.add_argument("--duckdb-python", default=sys.executable)
    a = ap.parse_args()

    sluice = harness.sluice_binary(a.sluice)
    data = shared_data.ensure(a.rows)
    orders, target = harness.paths(data)
    with open(os.path.join(data, "manifest.json")) as f:
        manifest = json.load(f)
    harness.warm(orders, target)

    tmp = tempfile.mkdtemp(prefix="sluice-diff-")
    cfg = os.path.join(tmp, "sluice.yaml")
    harness.write_diff_config(cfg, orders, target)
    report = os.path.join(tmp, "report.json")
    duck_script = os.path.join(tmp, "duck.py")

    t = {"sluice": [], "duckdb": [], "duckdb query": []}
    rss = {"sluice": [], "duckdb": []}
    duck = None
    for i in range(a.repeat):
        r, duck = harness.duckdb_diff(a.duckdb_python, duck_script, orders, target, "plain")
        t["duckdb"].append(r.wall)
        t["duckdb query"].append(duck["seconds"])
        rss["duckdb"].append(r.rss_mib)
        r = harness.run(harness.diff_cmd(sluice, cfg, report, a.memory_limit))
        if r.code not in (0, 1):
            sys.exit(f"sluice failed ({r.code}): {r.err}")
        t["sluice"].append(r.wall)
        rss["sluice"].append(r.rss_mib)
        print(f"run {i + 1}/{a.repeat} done", file=sys.stderr, flush=True)

    o = harness.diff_observed(report)
    _, ref = harness.duckdb_diff(a.duckdb_python, duck_script, orders, target, "dedup")

    limit = a.memory_limit
    print(f"\nkeyed diff of {a.rows:,} vs {manifest['target_rows']:,} rows, key order_id, {len(COLS)} columns compared, "
          f"{a.repeat} runs each, {os.cpu_count()} cores; sluice --memory-limit {limit} ({o['join']} join)\n")
    print(f"{'':16} {'best s':>8} {'median s':>9} {'peak RSS MiB':>13}")
    for name in ["duckdb", "duckdb query", "sluice"]:
        m = f"{max(rss[name]):13.0f}" if name in rss else f"{'':>13}"
        print(f"{name:16} {min(t[name]):8.2f} {statistics.median(t[name]):9.2f} {m}")
    print(f"\nratio sluice / duckdb (wall):        {min(t['sluice']) / min(t['duckdb']):.2f}x")
    print(f"ratio sluice / duckdb query only:    {min(t['sluice']) / min(t['duckdb query']):.2f}x")
    print(f"DuckDB version {duck['version']}\n")

    print(f"{'':26} {'manifest':>9} {'duckdb':>9} {'sluice':>9}")
    bad = False
    for name, m, d, s, ok in harness.diff_rows(manifest, o, ref):
        bad |= not ok
        print(f"{name:26} {'' if m is None else m:>9} {d:>9} {s:>9}{'' if ok else '  <-- disagree'}")
    print(f"\nplain DuckDB join (duplicated keys multiplied): missing {duck['missing']}, extra {duck['extra']}, changed {duck['changed']}")
    print("all counts agree" if not bad else "DISAGREEMENT")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
