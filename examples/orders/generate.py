#!/usr/bin/env python3
"""Writes the example's data (examples/orders/data/), deterministically (seed 7).

    python3 examples/orders/generate.py        # needs pyarrow

The outputs are committed, so running the example needs nothing but sluice. Defects are
injected on purpose, so that some checks of sluice.yaml fail and show what a failure
looks like:

orders.parquet (5,000 rows)
  - customer_id NULL in 4 rows
  - 3 order_id values appear twice
  - 2 orders with a negative amount
  - 5 orders with status 'lost' (not an accepted status)
  - 6 orders whose customer_id is not in customers.csv
  - 30 malformed emails (0.6%, tolerated by a 1% threshold)
  - shipped orders without shipped_at: 2
customers.csv (800 rows): clean.
events/dt=YYYY-MM-DD/part-0.json: page events, NDJSON in hive-style day partitions;
  the last day has far fewer events than the others.
"""
import csv
import json
import os
import random
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
rng = random.Random(7)

STATUSES = ["placed", "shipped", "delivered", "returned"]
COUNTRIES = ["DE", "FR", "GB", "US", "JP"]
FIRST = ["ana", "ben", "chloe", "dev", "emil", "fatima", "gus", "hana", "ivan", "jules"]


def customers(n=800):
    rows = []
    for i in range(n):
        cid = 1000 + i
        name = f"{rng.choice(FIRST)}.{cid}"
        rows.append({"customer_id": cid, "email": f"{name}@example.com", "country": rng.choice(COUNTRIES)})
    return rows


def orders(cust, n=5000):
    start = datetime(2024, 12, 1)
    rows = []
    for i in range(n):
        c = rng.choice(cust)
        status = rng.choices(STATUSES, [0.2, 0.3, 0.45, 0.05])[0]
        created = start + timedelta(minutes=8 * i + rng.randint(0, 7))
        shipped = created + timedelta(hours=rng.randint(2, 48)) if status in ("shipped", "delivered") else None
        rows.append({
            "order_id": 500_000 + i,
            "customer_id": c["customer_id"],
            "status": status,
            "amount": round(rng.lognormvariate(3.5, 0.6), 2),
            "currency": "EUR",
            "quantity": rng.randint(1, 5),
            "email": c["email"],
            "coupon": f"{rng.choice('ABCDEFGH') * 4}-{rng.randint(10, 99)}" if rng.random() < 0.3 else None,
            "country": c["country"],
            "created_at": created,
            "shipped_at": shipped,
        })
    picks = rng.sample(range(n), 60)
    for j in picks[0:4]:
        rows[j]["customer_id"] = None
    for j in picks[4:7]:
        rows[j]["order_id"] = rows[j - 1]["order_id"]
    for j in picks[7:9]:
        rows[j]["amount"] = -rows[j]["amount"]
    for j in picks[9:14]:
        rows[j]["status"] = "lost"
    for j in picks[14:20]:
        rows[j]["customer_id"] = 9000 + j
    for j in picks[20:50]:
        rows[j]["email"] = rows[j]["email"].replace("@", " at ")
    shipped = [j for j in picks[50:] if rows[j]["status"] == "shipped"][:2]
    for j in shipped:
        rows[j]["shipped_at"] = None
    return rows


SCHEMA = pa.schema([
    ("order_id", pa.int64()), ("customer_id", pa.int64()), ("status", pa.string()),
    ("amount", pa.float64()), ("currency", pa.string()), ("quantity", pa.int32()),
    ("email", pa.string()), ("coupon", pa.string()), ("country", pa.string()),
    ("created_at", pa.timestamp("us")), ("shipped_at", pa.timestamp("us")),
])


def main():
    os.makedirs(DATA, exist_ok=True)
    cust = customers()
    with open(os.path.join(DATA, "customers.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["customer_id", "email", "country"], lineterminator="\n")
        w.writeheader()
        w.writerows(cust)
    pq.write_table(pa.Table.from_pylist(orders(cust), schema=SCHEMA), os.path.join(DATA, "orders.parquet"))
    for d in range(5):
        day = datetime(2024, 12, 27) + timedelta(days=d)
        folder = os.path.join(DATA, "events", f"dt={day:%Y-%m-%d}")
        os.makedirs(folder, exist_ok=True)
        n = 40 if d == 4 else 400
        with open(os.path.join(folder, "part-0.json"), "w") as f:
            for k in range(n):
                f.write(json.dumps({"event_id": f"{day:%Y%m%d}-{k:05d}",
                                    "customer_id": rng.choice(cust)["customer_id"],
                                    "page": rng.choice(["/", "/cart", "/checkout", "/product"]),
                                    "ts": (day + timedelta(seconds=k * 97)).isoformat()}) + "\n")


if __name__ == "__main__":
    main()
