"""The forecast gate, in-process: a small polars forecast is built in memory and gated with
sluice's forecast checks before it is written. Nothing is written when a check fails.

    python examples/python/forecast_gate.py            # a good forecast: written
    python examples/python/forecast_gate.py --bad      # a broken one: refused, exit 1

Needs `pip install sluice polars` (or the wheel of this repository).
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from pathlib import Path

import polars as pl

import sluice

HERE = Path(__file__).resolve().parent


def forecast(bad: bool) -> pl.DataFrame:
    """Three regions × 14 days of p10/p50/p90 from a seasonal naive model of the actuals."""
    sales = pl.read_csv(HERE.parent / "forecast_gate" / "data" / "sales.csv", try_parse_dates=True)
    last_week = sales.filter(pl.col("ds") > sales["ds"].max() - dt.timedelta(days=7))
    level = last_week.group_by("region").agg(pl.col("units").mean().alias("level"))
    start = sales["ds"].max() + dt.timedelta(days=1)
    days = pl.DataFrame({"ds": [start + dt.timedelta(days=i) for i in range(14)]})
    f = (
        level.join(days, how="cross")
        .with_columns(
            (pl.col("level") * (1 + 0.1 * (pl.col("ds").dt.weekday() >= 6))).alias("p50"),
        )
        .with_columns(
            (pl.col("p50") * 0.8).alias("p10"),
            (pl.col("p50") * 1.25).alias("p90"),
        )
        .select("region", "ds", "p10", "p50", "p90")
        .sort("region", "ds")
    )
    if bad:
        # What a broken model run looks like: a region lost, quantiles crossed, a blow-up.
        f = f.filter(pl.col("region") != "west").with_columns(
            pl.when(pl.col("ds") == start).then(pl.col("p90") * 0.5).otherwise(pl.col("p10")).alias("p10"),
            pl.when(pl.col("ds") == start + dt.timedelta(days=3)).then(pl.col("p50") * math.e**3)
            .otherwise(pl.col("p50")).alias("p50"),
        )
    return f


def main() -> int:
    bad = "--bad" in sys.argv
    df = forecast(bad)
    out = HERE / "out" / "forecast.parquet"
    try:
        report = sluice.check(df, config=HERE / "sluice.yaml", dataset="forecast",
                              raise_on_fail=True, record=False)
    except sluice.ChecksFailed as e:
        print(f"forecast refused, nothing written ({e.report.status}):")
        for c in e.report.failed:
            print(f"  {c.name}: {c.message}")
        return 1
    out.parent.mkdir(exist_ok=True)
    df.write_parquet(out)
    print(f"forecast passed {report.summary.get('passed', 0)} checks; written to {out.relative_to(HERE.parent.parent)}")
    for c in report.checks:
        if c.status == "warn":
            print(f"  warning: {c.name}: {c.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
