"""Writes the Delta Lake test table with the reference implementation (delta-rs' Python
package `deltalake`, pinned in requirements.txt), for tests/delta.rs.

    make_delta.py TABLE [--endpoint URL --credentials FILE] [--export DIR]

TABLE is a local folder or an s3:// URL (then --endpoint and --credentials, profile
`sluice-test`, reach the loopback S3 server). Four versions:

  0  write   ids 1-10
  1  append  ids 11-20 (two have a negative amount)
  2  delete  the rows whose status is 'cancelled' (ids 3, 8, 13, 18)
  3  update  amount = 100.0 where amount < 0 (ids 12, 17)

The delete and the update rewrite the files holding those rows (this writer does not write
deletion vectors), so the folder keeps Parquet files the log has removed: a reader that
reads every Parquet file sees 40+ rows with duplicate ids, cancelled rows and negative
amounts; a correct reader of the latest version sees 16 rows, none of those.

Local tables get fixed commit times (the log files' modification times, which delta-rs
uses for time travel): version k at 2026-01-0(k+1)T00:00:00Z.

With --export DIR: the latest version and version 0 as plain Parquet files
(DIR/latest.parquet, DIR/v0.parquet), for parity checks.

Prints a JSON summary: the rows of each version.
"""

import argparse
import configparser
import json
import os
import sys
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake


def storage_options(args):
    if not args.table.startswith("s3://"):
        return None
    creds = configparser.ConfigParser()
    creds.read(args.credentials)
    profile = creds["sluice-test"]
    return {
        "AWS_ENDPOINT_URL": args.endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": profile["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": profile["aws_secret_access_key"],
        "AWS_ALLOW_HTTP": "true",
        # moto answers If-None-Match on PUT, so commits are conditional puts.
        "conditional_put": "etag",
    }


STATUSES = ["paid", "shipped", "cancelled", "pending", "paid"]


def rows(ids, negative=()):
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "customer": pa.array([f"c{i % 7}" for i in ids], pa.string()),
            "status": pa.array([STATUSES[(i - 1) % 5] for i in ids], pa.string()),
            "amount": pa.array(
                [-5.0 * i if i in negative else 10.0 * i for i in ids], pa.float64()
            ),
        }
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("table")
    p.add_argument("--endpoint")
    p.add_argument("--credentials")
    p.add_argument("--export")
    args = p.parse_args()
    opts = storage_options(args)
    t = args.table
    write_deltalake(t, rows(range(1, 11)), mode="overwrite", storage_options=opts)
    write_deltalake(
        t, rows(range(11, 21), negative=(12, 17)), mode="append", storage_options=opts
    )
    dt = DeltaTable(t, storage_options=opts)
    dt.delete("status = 'cancelled'")
    dt = DeltaTable(t, storage_options=opts)
    dt.update(updates={"amount": "100.0"}, predicate="amount < 0")
    dt = DeltaTable(t, storage_options=opts)
    assert dt.version() == 3, dt.version()
    if opts is None:
        for v in range(4):
            log = os.path.join(t, "_delta_log", f"{v:020d}.json")
            when = datetime(2026, 1, v + 1, tzinfo=timezone.utc).timestamp()
            os.utime(log, (when, when))
    counts = {}
    for v in range(4):
        counts[v] = DeltaTable(t, version=v, storage_options=opts).to_pyarrow_table().num_rows
    if args.export:
        os.makedirs(args.export, exist_ok=True)
        latest = DeltaTable(t, storage_options=opts).to_pyarrow_table().sort_by("id")
        pq.write_table(latest, os.path.join(args.export, "latest.parquet"))
        v0 = DeltaTable(t, version=0, storage_options=opts).to_pyarrow_table()
        pq.write_table(v0.sort_by("id"), os.path.join(args.export, "v0.parquet"))
    json.dump({"rows": counts}, sys.stdout)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    # delta-rs' runtime threads can abort the interpreter's exit (seen against S3).
    os._exit(0)
