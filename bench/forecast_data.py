#!/usr/bin/env python3
"""A long-format (hub) forecast for the forecast pack's benchmark, and its sluice config.

    python3 bench/forecast_data.py SERIES HORIZONS LEVELS   # prints the folder

Writes bench/data/forecast_<S>x<H>x<L>/ (data if missing, config every time):
- forecast.parquet: columns location (text), horizon (int64), output_type_id (float64,
  the quantile level), value (float64, non-decreasing in level); row groups of 1M rows.
  Seeded; a complete, ordered forecast, so every check passes and each does all its work.
- locations.csv: the required locations.
- sluice.yaml, three datasets on the same file:
    plain: rows_satisfy `value = value`: a plain scan that decodes the value column
           (not row_count/not_null or `value IS NOT NULL`, which the Parquet footers answer
           without reading pages)
    floor: rows_satisfy on the four columns the pack reads (one decode of each)
    pack:  completeness (long: location from locations.csv x horizon 1..H x the L levels),
           quantiles_ordered (long, by location and horizon), not_constant (value per location)

Needs numpy and pyarrow. Used by forecast_pack.sh and perf.py.
"""
from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

PLAIN = "value = value"
FLOOR = "location IS NOT NULL AND horizon IS NOT NULL AND output_type_id IS NOT NULL AND value IS NOT NULL"


def folder(series: int, horizons: int, levels: int) -> str:
    """bench/data/forecast_<S>x<H>x<L>."""
    return os.path.join(HERE, "data", f"forecast_{series}x{horizons}x{levels}")


def level_values(levels: int) -> list[float]:
    """The L quantile levels: (i + 1) / (L + 1), rounded to 4 places."""
    return [round((i + 1) / (levels + 1), 4) for i in range(levels)]


def generate(out: str, series: int, horizons: int, levels: int) -> None:
    """Writes forecast.parquet and locations.csv into `out`."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    S, H, L = series, horizons, levels
    rng = np.random.default_rng(42)
    lv = np.array(level_values(L))  # one list for the data and the config
    names = np.array([f"L{i:05d}" for i in range(S)])
    loc = np.repeat(np.arange(S), H * L)
    hor = np.tile(np.repeat(np.arange(1, H + 1), L), S)
    lvl = np.tile(np.arange(L), S * H)
    base = rng.uniform(50, 500, S)[loc] * (1 + 0.01 * hor)
    value = base * (0.5 + lvl / L)  # increasing in the level within each (location, horizon)
    table = pa.table({
        "location": pa.array(names[loc]),
        "horizon": pa.array(hor.astype(np.int64)),
        "output_type_id": pa.array(lv[lvl]),
        "value": pa.array(value),
    })
    os.makedirs(out, exist_ok=True)
    pq.write_table(table, os.path.join(out, "forecast.parquet"), row_group_size=1_000_000)
    with open(os.path.join(out, "locations.csv"), "w") as f:
        f.write("location\n" + "\n".join(names) + "\n")
    print(f"wrote {S * H * L:,} rows to {out}/forecast.parquet", file=sys.stderr)


def write_config(out: str, horizons: int, levels: int) -> str:
    """Writes `out`/sluice.yaml (datasets plain, floor, pack); returns its path."""
    lv = ", ".join(str(x) for x in level_values(levels))
    path = os.path.join(out, "sluice.yaml")
    with open(path, "w") as f:
        f.write(f"""version: 1
datasets:
  locations:
    path: locations.csv
  plain:
    path: forecast.parquet
    checks:
      - rows_satisfy: "{PLAIN}"
  floor:
    path: forecast.parquet
    checks:
      - rows_satisfy: "{FLOOR}"
  pack:
    path: forecast.parquet
    checks:
      - completeness:
          keys:
            location: {{ from: locations.location }}
            horizon: {{ from: 1, to: {horizons} }}
            output_type_id: [{lv}]
      - quantiles_ordered: {{ level: output_type_id, value: value, by: [location, horizon] }}
      - not_constant: {{ series: [location], column: value }}
""")
    return path


def ensure(series: int, horizons: int, levels: int) -> str:
    """The forecast folder at this shape: data generated if missing, config written.
    Generates in a child process (this interpreter), so a measuring caller stays small: a
    child's peak RSS from wait4 counts its parent's RSS at the fork."""
    out = folder(series, horizons, levels)
    if not os.path.exists(os.path.join(out, "forecast.parquet")):
        print(f"generating forecast {series}x{horizons}x{levels} into {out} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, os.path.abspath(__file__), "--generate", str(series), str(horizons), str(levels)],
                       check=True)
    write_config(out, horizons, levels)
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--generate"] and len(args) == 4:
        S, H, L = (int(x) for x in args[1:])
        generate(folder(S, H, L), S, H, L)
    elif len(args) == 3:
        print(ensure(*(int(x) for x in args)))
    else:
        sys.exit(__doc__)
