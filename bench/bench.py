#!/usr/bin/env python3
"""sluice vs DuckDB's fused query on the same files, in one run (the 20 checks of checks.json).

    python3 bench/bench.py [--rows 5000000] [--repeat 3] [--sluice PATH] [--samples-off]
                           [--duckdb-python PATH]

1. Generates ../shared/bench data (seeded, known defects) for --rows if missing
   (bench/data/n<rows>/).
2. Runs, alternately and --repeat times each: DuckDB's one-query reference
   (../shared/bench/duckdb/run_fused.py) and `sluice check --config bench/sluice.yaml`.
   Wall time and peak RSS of each process come from wait4(); DuckDB's own query time
   (after Python imports) is read from its result file.
3. Prints both times, both peak memories, the ratios, and the pass/fail of C01-C20 for
   each tool next to the expected outcome of checks.json. Exits 1 on any disagreement.

Needs a Python with duckdb, pyarrow and numpy (the shared bench venv) and a release
build of sluice (cargo build --release).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import shared_data

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared", "bench"))
NOW = "2025-01-01T00:00:00"
IDS = [f"C{i:02d}" for i in range(1, 21)]


def run(cmd):
    """Runs cmd; returns (wall seconds, peak RSS in MiB, exit code, stderr)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode()
    p.stderr.close()
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), err


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sluice", default=None, help="sluice binary (default: release build in the cargo target dir)")
    ap.add_argument("--samples-off", action="store_true", help="also time sluice with samples: 0 (no sample queries)")
    ap.add_argument("--duckdb-python", default=sys.executable,
                    help="Python whose duckdb runs the reference query (default: this one); e.g. a venv with the newest DuckDB")
    a = ap.parse_args()

    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
    sluice = a.sluice or os.path.join(target, "release", "sluice")
    if not os.path.exists(sluice):
        sys.exit(f"no sluice binary at {sluice}: run `cargo build --release` (or pass --sluice)")
    data = shared_data.ensure(a.rows)
    orders = os.path.join(data, "orders.parquet")
    target = os.path.join(data, "orders_target.parquet")
    with open(os.path.join(SHARED, "checks.json")) as f:
        expected = {c["id"]: c["expect"] for c in json.load(f)["checks"]}
    # Same warm page cache for both tools.
    with open(orders, "rb") as f:
        while f.read(1 << 24):
            pass

    tmp = tempfile.mkdtemp(prefix="sluice-bench-")
    duck_out = os.path.join(tmp, "duckdb.json")
    sl_out = os.path.join(tmp, "sluice.json")
    config = os.path.join(HERE, "sluice.yaml")
    variants = [("sluice", config)]
    if a.samples_off:
        no_samples = os.path.join(tmp, "sluice-nosamples.yaml")
        with open(config) as f:
            text = f.read()
        with open(no_samples, "w") as f:
            f.write(text.replace("version: 1\n", "version: 1\ndefaults: { samples: 0 }\n", 1))
        variants.append(("sluice (samples: 0)", no_samples))

    times = {"duckdb": [], "duckdb query": []}
    rss = {"duckdb": []}
    for name, _ in variants:
        times[name] = []
        rss[name] = []
    for r in range(a.repeat):
        wall, mem, code, err = run([a.duckdb_python, os.path.join(SHARED, "duckdb", "run_fused.py"),
                                    "--data-dir", data, "--now", NOW, "--out", duck_out])
        if code != 0:
            sys.exit(f"duckdb failed ({code}): {err}")
        times["duckdb"].append(wall)
        rss["duckdb"].append(mem)
        with open(duck_out) as f:
            duck = json.load(f)
        times["duckdb query"].append(duck["inner_seconds"])
        for name, cfg in variants:
            wall, mem, code, err = run([sluice, "-q", "check", "--config", cfg, "--var", f"ORDERS={orders}", "--var", f"TARGET={target}",
                                        "--now", NOW, "--format", "json", "--output", sl_out])
            if code not in (0, 1):
                sys.exit(f"sluice failed ({code}): {err}")
            times[name].append(wall)
            rss[name].append(mem)
        print(f"run {r + 1}/{a.repeat} done", file=sys.stderr, flush=True)

    with open(sl_out) as f:
        report = json.load(f)
    ours = {c["name"]: c["status"] for c in report["checks"]}

    print(f"\nsluice {report['sluice_version']} vs DuckDB {duck['version']} (fused query) on {a.rows:,} rows, "
          f"{a.repeat} runs each, {os.cpu_count()} cores\n")
    print(f"{'':22} {'best s':>8} {'median s':>9} {'peak RSS MiB':>13}")
    for name in ["duckdb", "duckdb query"] + [v for v, _ in variants]:
        t = times[name]
        m = f"{max(rss[name]):13.0f}" if name in rss else f"{'':>13}"
        print(f"{name:22} {min(t):8.3f} {statistics.median(t):9.3f} {m}")
    best = min(times["sluice"])
    print(f"\nratio sluice / duckdb process (wall):   {best / min(times['duckdb']):.2f}x")
    print(f"ratio sluice / duckdb query only:       {best / min(times['duckdb query']):.2f}x")
    print(f"peak memory sluice / duckdb:            {max(rss['sluice']) / max(rss['duckdb']):.2f}x")

    print(f"\n{'check':6} {'expected':9} {'duckdb':7} {'sluice':7}")
    bad = []
    for cid in IDS:
        d = duck["checks"][cid]["outcome"]
        s = {"pass": "pass", "warn": "pass", "fail": "fail"}.get(ours.get(cid), ours.get(cid, "missing"))
        flag = "" if d == s == expected[cid] else "  <-- disagree"
        if flag:
            bad.append(cid)
        print(f"{cid:6} {expected[cid]:9} {d:7} {s:7}{flag}")
    print(f"\n{'all ' + str(len(IDS)) + ' agree' if not bad else 'DISAGREEMENT on ' + ', '.join(bad)}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
