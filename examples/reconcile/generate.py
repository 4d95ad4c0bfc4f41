#!/usr/bin/env python3
"""Writes the reconciliation example's data (examples/reconcile/data/), deterministically.

    python3 examples/reconcile/generate.py        # needs pyarrow

Incentive redemptions as three systems see them:

experiments.jsonl  the experimentation platform (NDJSON): redemption_id, user_id, variant,
                   amount (EUR, float), status
payments.csv       the payment provider (CSV), other column names: payment_ref, amount_eur,
                   state (UPPER CASE, sometimes with trailing spaces)
ledger.parquet     the ledger (Parquet): redemption_id, amount (decimal(10,3)), status,
                   booked_at

They disagree in known ways (all else agrees once case and spaces are ignored):
  - redemptions 1007, 1042, 1163 are not booked in the ledger yet;
  - payment 1250 exists only at the payment provider;
  - redemption 1088: the ledger booked 5.00 more than was paid;
  - redemption 1120: the ledger differs by 0.004 (a rounding: within a 0.01 tolerance);
  - redemption 1133: the payment provider says REFUNDED, the others redeemed;
  - redemption 1175 is booked twice in the ledger.
"""
import csv
import json
import os
import random
from datetime import datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


def main():
    rng = random.Random(11)
    os.makedirs(DATA, exist_ok=True)
    rows = []
    for i in range(200):
        rid = 1000 + i
        amount = rng.choice([5, 10, 15, 20, 25]) + rng.choice([0, 0.5, 0.99])
        rows.append({"redemption_id": rid, "user_id": 50_000 + rng.randint(0, 9999),
                     "variant": rng.choice(["control", "bonus10", "bonus20"]),
                     "amount": round(amount, 2), "status": "redeemed"})
    with open(os.path.join(DATA, "experiments.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")

    with open(os.path.join(DATA, "payments.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["payment_ref", "amount_eur", "state", "paid_at"])
        for k, r in enumerate(rows + [{"redemption_id": 1250, "amount": 12.5, "status": "redeemed"}]):
            state = "REFUNDED" if r["redemption_id"] == 1133 else "REDEEMED"
            if k % 7 == 0:
                state += "  "
            paid = datetime(2025, 3, 1) + timedelta(minutes=17 * k)
            w.writerow([r["redemption_id"], f"{r['amount']:.2f}", state, paid.isoformat()])

    ledger = []
    for k, r in enumerate(rows):
        rid = r["redemption_id"]
        if rid in (1007, 1042, 1163):
            continue
        amount = Decimal(f"{r['amount']:.2f}")
        if rid == 1088:
            amount += Decimal("5.00")
        if rid == 1120:
            amount = Decimal(f"{r['amount'] + 0.004:.3f}").quantize(Decimal("0.001"))
        booked = datetime(2025, 3, 2) + timedelta(minutes=17 * k)
        entry = {"redemption_id": rid, "amount": amount, "status": "redeemed", "booked_at": booked}
        ledger.append(entry)
        if rid == 1175:
            ledger.append(dict(entry, booked_at=booked + timedelta(hours=1)))
    schema = pa.schema([("redemption_id", pa.int64()), ("amount", pa.decimal128(10, 3)),
                        ("status", pa.string()), ("booked_at", pa.timestamp("ms"))])
    pq.write_table(pa.Table.from_pylist(ledger, schema=schema), os.path.join(DATA, "ledger.parquet"))


if __name__ == "__main__":
    main()
