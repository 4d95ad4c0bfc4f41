"""The shared benchmark's data (../shared/bench/gen_data.py: seeded, with known defects),
generated once per size into bench/data/n<rows>/ (gitignored) for every bench script."""
from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench"))


def ensure(rows: int) -> str:
    """The folder holding `orders.parquet` and `orders_target.parquet` at `rows` rows,
    generated if missing (with this interpreter: it needs pyarrow and numpy)."""
    data = os.path.join(HERE, "data", f"n{rows}")
    if not os.path.exists(os.path.join(data, "orders.parquet")):
        print(f"generating {rows} rows into {data} ...", flush=True)
        subprocess.run([sys.executable, os.path.join(SHARED, "gen_data.py"), str(rows), "--out-dir", data],
                       check=True, stdout=subprocess.DEVNULL)
    return data
