#!/usr/bin/env python3
"""Writes the shared data of the check cases (tests/cases/data/), deterministically.

Run from anywhere with pyarrow installed: python3 tests/cases/data/make_data.py
The outputs are committed; rerun only to change them (then re-bless the cases).

orders.{csv,parquet,ndjson,arrow}: 20 rows with known defects
  - order_id 7 appears twice (rows 7 and 8)
  - customer_id NULL in 2 rows (order_id 3 and 11); customer_id 999 not in customers
  - status 'lost' once (outside placed/shipped/returned)
  - amount -5.0 once
  - quantity 0 once
  - email 'not-an-email' once
  - code 'TOOLONG' once (length 7)
  - created_at newest 2024-12-31T22:00:00
clean_orders.csv: the same shape with no defect.
"""
import csv
import json
import os
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))


def orders(clean=False):
    rows = []
    base = datetime(2024, 12, 31, 3, 0, 0)
    for i in range(20):
        oid = i + 1
        rows.append({
            "order_id": oid,
            "customer_id": 100 + (i % 10),
            "status": ["placed", "shipped", "returned"][i % 3],
            "amount": round(10.0 + i * 2.5, 2),
            "quantity": 1 + i % 5,
            "email": f"user{oid}@example.com",
            "created_at": base + timedelta(hours=i),
            "code": ["AB", "ABC", "ABCD"][i % 3],
            "region": ["eu", "us"][i % 2],
        })
    if not clean:
        rows[7]["order_id"] = 7            # duplicate of row 7
        rows[2]["customer_id"] = None
        rows[10]["customer_id"] = None
        rows[12]["customer_id"] = 999      # orphan
        rows[4]["status"] = "lost"
        rows[5]["amount"] = -5.0
        rows[6]["quantity"] = 0
        rows[8]["email"] = "not-an-email"
        rows[9]["code"] = "TOOLONG"
    return rows


SCHEMA = pa.schema([
    ("order_id", pa.int64()),
    ("customer_id", pa.int64()),
    ("status", pa.string()),
    ("amount", pa.float64()),
    ("quantity", pa.int32()),
    ("email", pa.string()),
    ("created_at", pa.timestamp("us")),
    ("code", pa.string()),
    ("region", pa.string()),
])


def table(rows):
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def write_csv(t, path):
    """Plain CSV: a header, unquoted values where possible, ISO timestamps, empty = NULL."""
    def fmt(v):
        if v is None:
            return ""
        if isinstance(v, datetime):
            return v.isoformat()
        return str(v)

    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(t.column_names)
        for r in t.to_pylist():
            w.writerow([fmt(r[c]) for c in t.column_names])


def main():
    os.chdir(HERE)
    t = table(orders())
    write_csv(t, "orders.csv")
    pq.write_table(t, "orders.parquet")
    feather.write_feather(t, "orders.arrow", compression="uncompressed")
    with open("orders.ndjson", "w") as f:
        for r in orders():
            r = dict(r, created_at=r["created_at"].isoformat())
            f.write(json.dumps(r) + "\n")
    write_csv(table(orders(clean=True)), "clean_orders.csv")

    cust = pa.table({"customer_id": pa.array(range(100, 110), pa.int64()),
                     "name": [f"customer {i}" for i in range(10)]})
    write_csv(cust, "customers.csv")

    # Hive partitions: dt=.../region=.../part-0.parquet
    for dt in ("2025-01-01", "2025-01-02"):
        for region in ("eu", "us"):
            d = os.path.join("hive", f"dt={dt}", f"region={region}")
            os.makedirs(d, exist_ok=True)
            sub = [r for r in orders(clean=True) if r["region"] == region]
            sub = [dict(r, order_id=r["order_id"] + (100 if dt.endswith("2") else 0)) for r in sub]
            if dt == "2025-01-02" and region == "us":
                sub[0]["amount"] = -1.0    # the only defect: in one partition
            pq.write_table(table(sub).drop(["region"]), os.path.join(d, "part-0.parquet"))

    # Glob: two CSV files (and a file the glob must not match)
    os.makedirs("parts", exist_ok=True)
    rows = orders(clean=True)
    write_csv(table(rows[:10]), "parts/orders-a.csv")
    write_csv(table(rows[10:]), "parts/orders-b.csv")
    with open("parts/README.txt", "w") as f:
        f.write("not data: the glob parts/orders-*.csv must skip this file\n")

    with open("corrupt.parquet", "wb") as f:
        f.write(b"PAR1" + b"\x00\x13 this is not a parquet file " * 8 + b"PAR1")
    with open("ragged.csv", "w") as f:
        f.write("order_id,amount,status\n1,10.0,placed\n2,20.0\n3,30.0,placed,extra\n")
    with open("empty.csv", "w") as f:
        f.write("order_id,customer_id,amount\n")
    with open("all_null.csv", "w") as f:
        f.write("order_id,customer_id,note\n1,,\n2,,\n3,,\n")
    with open("weird.csv", "w") as f:
        f.write('order id,prénom,select,Order,Amount €\n1,Zoé,a,x,1.5\n2,Ana,b,y,\n3,,c,z,3.0\n')
    with open("semicolon.csv", "w") as f:
        f.write("order_id;customer_id;amount\n1;100;1.5\n2;NA;2.5\n3;102;NA\n")
    with open("noheader.csv", "w") as f:
        f.write("1,100,1.5\n2,,2.5\n")
    # Parity: the clean orders as Parquet (timestamps in microseconds where the CSV has
    # seconds) and as a CSV with other column names, upper-case statuses with trailing
    # spaces, and quantities written as floats.
    pq.write_table(table(orders(clean=True)), "clean_orders.parquet")
    with open("renamed_orders.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "total", "qty", "state", "placed_at", "region"])
        for r in orders(clean=True):
            w.writerow([r["order_id"], f"{r['amount']:g}", f"{float(r['quantity'])}", r["status"].upper() + ("  " if r["order_id"] % 3 == 0 else ""),
                        r["created_at"].isoformat(), r["region"]])
    # An empty Parquet file with the orders' columns.
    pq.write_table(table([]), "empty_orders.parquet")
    # Reconciliation: three systems' view of 10 redemptions.
    os.makedirs("recon", exist_ok=True)
    with open("recon/a.csv", "w") as f:
        f.write("rid,amount,status\n" + "".join(f"{i},{10 + i}.0,ok\n" for i in range(1, 11)))
    with open("recon/b.ndjson", "w") as f:
        for i in range(1, 12):  # 11 is only here
            amount = 10 + i + (0.5 if i == 4 else 0)  # 4 differs
            f.write(json.dumps({"ref": i, "amount_eur": amount, "status": "OK"}) + "\n")
    c_rows = [{"rid": i, "amount": float(10 + i), "status": "ok" if i != 6 else "void"} for i in range(1, 11) if i != 9]
    c_rows.append({"rid": 2, "amount": 12.0, "status": "ok"})  # 2 twice
    pq.write_table(pa.Table.from_pylist(c_rows), "recon/c.parquet")
    os.makedirs("empty_dir", exist_ok=True)
    with open("empty_dir/_SUCCESS", "w") as f:
        pass


if __name__ == "__main__":
    main()
