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
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared", "bench"))
COLS = ["customer_id", "region", "status", "amount", "quantity", "created_at", "email"]

DUCK = r"""
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
""" % {"cols": COLS}


def run_measured(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Read the pipes while waiting, then reap with wait4 for the child's peak RSS.
    out, err = b"", b""
    while True:
        chunk = p.stdout.read()
        out += chunk
        if not chunk:
            break
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), out.decode(), err.decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-limit", default="4G", help="sluice's --memory-limit (default 4G)")
    ap.add_argument("--sluice", default=None)
    ap.add_argument("--duckdb-python", default=sys.executable)
    a = ap.parse_args()

    target_dir = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
    sluice = a.sluice or os.path.join(target_dir, "release", "sluice")
    if not os.path.exists(sluice):
        sys.exit(f"no sluice binary at {sluice}: run `cargo build --release` (or pass --sluice)")
    data = os.path.join(HERE, "data", f"n{a.rows}")
    orders, target = os.path.join(data, "orders.parquet"), os.path.join(data, "orders_target.parquet")
    if not os.path.exists(target):
        print(f"generating {a.rows} rows into {data} ...", flush=True)
        subprocess.run([sys.executable, os.path.join(SHARED, "gen_data.py"), str(a.rows), "--out-dir", data],
                       check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(data, "manifest.json")) as f:
        manifest = json.load(f)
    for p in (orders, target):
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass

    tmp = tempfile.mkdtemp(prefix="sluice-diff-")
    cfg = os.path.join(tmp, "sluice.yaml")
    with open(cfg, "w") as f:
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
    report = os.path.join(tmp, "report.json")
    duck_script = os.path.join(tmp, "duck.py")
    with open(duck_script, "w") as f:
        f.write(DUCK)

    t = {"sluice": [], "duckdb": [], "duckdb query": []}
    rss = {"sluice": [], "duckdb": []}
    duck = None
    for r in range(a.repeat):
        wall, mem, code, out, err = run_measured([a.duckdb_python, duck_script, orders, target, "plain"])
        if code != 0:
            sys.exit(f"duckdb failed: {err}")
        duck = json.loads(out)
        t["duckdb"].append(wall)
        t["duckdb query"].append(duck["seconds"])
        rss["duckdb"].append(mem)
        wall, mem, code, out, err = run_measured([sluice, "-q", "check", "--config", cfg, "--dataset", "orders_target",
                                                  "--memory-limit", a.memory_limit, "--format", "json", "--output", report])
        if code not in (0, 1):
            sys.exit(f"sluice failed ({code}): {err}")
        t["sluice"].append(wall)
        rss["sluice"].append(mem)
        print(f"run {r + 1}/{a.repeat} done", file=sys.stderr, flush=True)

    with open(report) as f:
        rows = next(c for c in json.load(f)["checks"] if c["name"] == "rows")
    o = rows["observed"]["rows"]
    wall, mem, code, out, err = run_measured([a.duckdb_python, duck_script, orders, target, "dedup"])
    ref = json.loads(out)

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

    rows_ = [
        ("missing", manifest["target_dropped_rows"], ref["missing"], o["missing"]),
        ("extra", 0, ref["extra"], o["extra"]),
        ("changed", manifest["target_changed_amounts"], ref["changed"], o["changed"]),
        ("duplicate keys (source)", manifest["duplicate_order_id_values"], ref["dup_source"], o["duplicate_keys"]["source"]),
        ("duplicate keys (target)", None, ref["dup_target"], o["duplicate_keys"]["target"]),
    ]
    print(f"{'':26} {'manifest':>9} {'duckdb':>9} {'sluice':>9}")
    bad = False
    for name, m, d, s in rows_:
        ok = d == s and (m is None or m == s)
        bad |= not ok
        print(f"{name:26} {'' if m is None else m:>9} {d:>9} {s:>9}{'' if ok else '  <-- disagree'}")
    print(f"\nplain DuckDB join (duplicated keys multiplied): missing {duck['missing']}, extra {duck['extra']}, changed {duck['changed']}")
    print("all counts agree" if not bad else "DISAGREEMENT")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
