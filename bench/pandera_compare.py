#!/usr/bin/env python3
"""sluice against pandera on the same in-memory polars frame, in one run: the checks of
bench/pandera.yaml (the 20-check suite's that pandera can state) on ../shared/bench's
`orders` (seeded, with known defects), 1M rows by default.

    python bench/pandera_compare.py [--rows 1000000] [--repeat 3]

Needs a Python with polars, pandas, pandera (with its polars backend) and the `sluice`
wheel (release: `maturin build --release`). Each tool runs in a fresh process per round,
with the frame read from Parquet before its clock starts; the time is that of the
validation call only (`sluice.check(df)` / `schema.validate(df, lazy=True)`: every
failure collected, as sluice checks everything). Peak RSS is the whole process's. pandera
runs twice: on the polars frame (pandera.polars) and on the same data as a pandas frame
(pandera.pandas, the classic backend). Prints the times, the ratios and each check's
pass/fail from each tool.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import shared_data

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

REGIONS = ["us-east", "us-west", "eu-west", "eu-central", "ap-south", "ap-northeast", "sa-east", "af-south"]
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled"]
EMAIL = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"

RUN = r"""
import json, resource, sys, time
tool, path, config = sys.argv[1], sys.argv[2], sys.argv[3]
import polars as pl
df = pl.read_parquet(path)
REGIONS, STATUSES, EMAIL = json.loads(sys.argv[4])
verdict = {}
if tool == "sluice":
    import sluice
    t0 = time.perf_counter()
    r = sluice.check(df, config=config, dataset="orders", vars={"ORDERS": path}, record=False)
    t = time.perf_counter() - t0
    verdict = {c.name: c.status == "pass" for c in r.checks}
else:
    backend = tool.split("-")[1]
    if backend == "polars":
        import pandera.polars as pa
        frame = df
        def rows_check():
            return pa.Check(lambda d: d.lazyframe.select((pl.len() >= 100000) & (pl.len() <= 50000000)), name="row_count")
        dtypes = dict(i64=pl.Int64, i32=pl.Int32, s=pl.String, f=pl.Float64, ts=pl.Datetime("us"))
    else:
        import pandera.pandas as pa
        frame = df.to_pandas()
        def rows_check():
            return pa.Check(lambda d: 100000 <= len(d) <= 50000000, name="row_count")
        dtypes = dict(i64="Int64", i32="int32", s=object, f="float64", ts="datetime64[us]")
        frame["customer_id"] = frame["customer_id"].astype("Int64")
    schema = pa.DataFrameSchema(
        {
            "order_id": pa.Column(dtypes["i64"], nullable=False, unique=True),
            "customer_id": pa.Column(dtypes["i64"], nullable=False, checks=pa.Check.ge(1, ignore_na=True)),
            "region": pa.Column(dtypes["s"], checks=pa.Check.isin(REGIONS), nullable=True),
            "status": pa.Column(dtypes["s"], checks=pa.Check.isin(STATUSES), nullable=True),
            "amount": pa.Column(dtypes["f"], checks=[pa.Check.ge(0), pa.Check.le(100000)], nullable=True),
            "quantity": pa.Column(dtypes["i32"], checks=pa.Check.in_range(1, 100), nullable=True),
            "email": pa.Column(dtypes["s"], checks=pa.Check.str_matches(EMAIL), nullable=True),
            "created_at": pa.Column(dtypes["ts"], nullable=False),
        },
        checks=[rows_check()],
        coerce=False,
        strict=False,
    )
    failed = set()
    t0 = time.perf_counter()
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as e:
        cases = e.failure_cases
        if not hasattr(cases, "iter_rows"):
            cases = pl.from_pandas(cases.astype(str))
        for col, check in cases.select("column", "check").unique().iter_rows():
            failed.add((str(col), str(check)))
    t = time.perf_counter() - t0
    def f(col, prefix):
        return not any(c == col and k.startswith(prefix) for c, k in failed)
    verdict = {
        "row_count": f("None", "row_count") and not any(k == "row_count" for _, k in failed),
        "order_id_not_null": f("order_id", "not_nullable"),
        "order_id_unique": f("order_id", "field_uniqueness"),
        "customer_id_not_null": f("customer_id", "not_nullable"),
        "customer_id_min": f("customer_id", "greater_than_or_equal_to"),
        "region_values": f("region", "isin"),
        "status_values": f("status", "isin"),
        "amount_min": f("amount", "greater_than_or_equal_to"),
        "amount_max": f("amount", "less_than_or_equal_to"),
        "quantity_range": f("quantity", "in_range"),
        "email_format": f("email", "str_matches"),
        "created_at_not_null": f("created_at", "not_nullable"),
    }
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": t, "rss_mib": rss, "verdict": verdict}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    orders = os.path.join(shared_data.ensure(a.rows), "orders.parquet")
    config = os.path.join(HERE, "pandera.yaml")
    tools = ["sluice", "pandera-polars", "pandera-pandas"]
    best: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "run.py")
        with open(script, "w") as f:
            f.write(RUN)
        for _ in range(a.repeat):
            for tool in tools:
                out = subprocess.run([sys.executable, script, tool, orders, config,
                                      json.dumps([REGIONS, STATUSES, EMAIL])],
                                     capture_output=True, text=True, cwd=tmp)
                assert out.returncode == 0, f"{tool}: {out.stderr}"
                res = json.loads(out.stdout.strip().splitlines()[-1])
                if tool not in best or res["seconds"] < best[tool]["seconds"]:
                    best[tool] = res
    base = best["sluice"]["seconds"]
    print(f"rows: {a.rows:,}; 12 checks; best of {a.repeat}; validation call only, frame in memory")
    for tool in tools:
        r = best[tool]
        print(f"  {tool:16s} {r['seconds']:7.3f} s  {r['rss_mib']:7.0f} MiB peak   {r['seconds'] / base:6.1f}x sluice's time")
    names = list(best["sluice"]["verdict"])
    print("  check                  " + "  ".join(f"{t:>15s}" for t in tools))
    agree = True
    for n in names:
        row = [best[t]["verdict"].get(n) for t in tools]
        agree &= len(set(row)) == 1
        print(f"  {n:22s} " + "  ".join(f"{'pass' if v else 'fail':>15s}" for v in row))
    print(f"  verdicts agree: {'yes' if agree else 'NO'}")


if __name__ == "__main__":
    main()
