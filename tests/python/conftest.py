"""Shared fixtures: one seeded forecast-like dataset with the column types frames bring
(NULLs, categoricals, timezone-aware datetimes, decimals, large strings), written to
Parquet for the CLI and handed over as polars, pandas and pyarrow frames."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

NOW = "2026-12-01T12:00:00Z"

CONFIG = """\
version: 1
datasets:
  forecast:
    path: data/forecast.parquet
    key: [region, ds]
    checks:
      - row_count: { min: 1 }
      - not_null: [region, ds, p50]                                   # 7 NULL p50
      - unique: { columns: [region, ds] }                             # 2 duplicates
      - accepted_values: { column: region, values: [north, south, east, west] }   # 'centre'
      - range: { column: p50, min: 0 }                                # 3 negative
      - quantiles_ordered: [p10, p50, p90]                            # 4 crossings
      - freshness: { column: made_at, max_age: 1d }
      - range: { column: price, min: 0, max: 100, name: price_range } # decimals; 2 over
      - length: { column: note, max: 12 }                             # large strings; long ones
      - matches: { column: note, regex: '^[a-z ]+$' }
      - accepted_values: { column: tier, values: [a, b], name: tier_values }   # categorical
      - rows_satisfy: { name: interval, condition: "p10 <= p90" }
  actuals:
    path: data/actuals.parquet
    key: [region, ds]
    checks:
      - not_null: [units]
"""


def table(rows: int = 400) -> pa.Table:
    """The dataset, with known defects (see CONFIG's comments)."""
    regions = ["north", "south", "east", "west"]
    region, ds, p10, p50, p90, price, note, tier = [], [], [], [], [], [], [], []
    start = dt.date(2026, 12, 1)
    for i in range(rows):
        region.append(regions[i % 4] if i != 17 else "centre")
        ds.append(start + dt.timedelta(days=i // 4))
        mid = float(10 + (i * 7) % 50)
        if i in (3, 9, 30, 77, 120, 200, 301):
            p50.append(None)
        elif i in (5, 6, 8):
            p50.append(-mid)
        else:
            p50.append(mid)
        lo, hi = mid * 0.8, mid * 1.2
        if i in (40, 41, 42, 43):
            lo, hi = hi, lo  # crossing
        p10.append(lo)
        p90.append(hi)
        price.append(Decimal("150.25") if i in (11, 12) else Decimal(f"{i % 97}.{i % 100:02d}"))
        note.append(None if i % 10 == 0 else ("a much longer note" if i % 33 == 0 else "fine"))
        tier.append("c" if i == 5 else ("a" if i % 2 else "b"))
    # Two duplicate keys.
    region[50], ds[50] = region[54], ds[54]
    region[60], ds[60] = region[64], ds[64]
    made = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.timezone.utc)
    return pa.table(
        {
            "region": pa.array(region, pa.string()),
            "ds": pa.array(ds, pa.date32()),
            "p10": pa.array(p10, pa.float64()),
            "p50": pa.array(p50, pa.float64()),
            "p90": pa.array(p90, pa.float64()),
            "made_at": pa.array([made] * rows, pa.timestamp("us", tz="Europe/Berlin")),
            "price": pa.array(price, pa.decimal128(10, 2)),
            "note": pa.array(note, pa.large_string()),
            "tier": pa.array(tier, pa.string()).dictionary_encode(),
        }
    )


def actuals() -> pa.Table:
    t = table()
    return pa.table({"region": t["region"], "ds": t["ds"], "units": t["p50"].fill_null(0.0)})


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    """A folder with sluice.yaml and the data as Parquet."""
    (tmp_path / "data").mkdir()
    (tmp_path / "sluice.yaml").write_text(CONFIG)
    pq.write_table(table(), tmp_path / "data" / "forecast.parquet")
    pq.write_table(actuals(), tmp_path / "data" / "actuals.parquet")
    return tmp_path


def sluice_cli() -> str:
    """The wheel's `sluice` command (beside this interpreter)."""
    exe = Path(sys.executable).parent / "sluice"
    assert exe.exists(), f"no sluice command beside {sys.executable}: install the wheel"
    return str(exe)


def cli_report(work: Path, *datasets: str) -> dict:
    """What `sluice check --format json --no-state` says about the Parquet files."""
    args = [sluice_cli(), "check", "--config", str(work / "sluice.yaml"), "--no-state", "--format", "json", "--now", NOW]
    for d in datasets:
        args += ["--dataset", d]
    out = subprocess.run(args, capture_output=True, text=True, cwd=work)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


def verdicts(report: dict) -> list[tuple]:
    """What must be equal between two runs on the same data: per check, its status,
    observed value and failing rows."""
    return [
        (c["dataset"], c["name"], c["status"], json.dumps(c.get("observed"), sort_keys=True), c.get("failing_rows"))
        for c in report["checks"]
    ]


@pytest.fixture(autouse=True)
def _no_state_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLUICE_STATE", raising=False)

