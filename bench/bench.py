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
import sys
import tempfile

import harness
import shared_data
from harness import IDS, run


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sluice", default=None, help="sluice binary (default: release build in the cargo target dir)")
    ap.add_argument("--samples-off", action="store_true", help="also time sluice with samples: 0 (no sample queries)")
    ap.add_argument("--duckdb-python", default=sys.executable,
                    help="Python whose duckdb runs the reference query (default: this one); e.g. a venv with the newest DuckDB")
    a = ap.parse_args()

    sluice = harness.sluice_binary(a.sluice)
    data = shared_data.ensure(a.rows)
    orders, _ = harness.paths(data)
    expected = harness.expected_verdicts()
    # Same warm page cache for both tools.
    harness.warm(orders)

    tmp = tempfile.mkdtemp(prefix="sluice-bench-")
    duck_out = os.path.join(tmp, "duckdb.json")
    sl_out = os.path.join(tmp, "sluice.json")
    config = harness.SUITE_CONFIG
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
    for i in range(a.repeat):
        r_duck, duck = harness.duckdb_fused(a.duckdb_python, data, duck_out)
        times["duckdb"].append(r_duck.wall)
        rss["duckdb"].append(r_duck.rss_mib)
        times["duckdb query"].append(duck["inner_seconds"])
        for name, cfg in variants:
            r = run(harness.suite_cmd(sluice, data, sl_out, config=cfg))
            if r.code not in (0, 1):
                sys.exit(f"sluice failed ({r.code}): {r.err}")
            times[name].append(r.wall)
            rss[name].append(r.rss_mib)
        print(f"run {i + 1}/{a.repeat} done", file=sys.stderr, flush=True)

    with open(sl_out) as f:
        report = json.load(f)
    ours = harness.sluice_verdicts(report)
    theirs = harness.duckdb_verdicts(duck)

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
    bad = harness.disagreements(expected, ours, theirs)
    for cid in IDS:
        flag = "  <-- disagree" if cid in bad else ""
        print(f"{cid:6} {expected[cid]:9} {theirs[cid]:7} {ours[cid]:7}{flag}")
    print(f"\n{'all ' + str(len(IDS)) + ' agree' if not bad else 'DISAGREEMENT on ' + ', '.join(bad)}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
