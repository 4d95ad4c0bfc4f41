#!/usr/bin/env python3
"""`sluice.check` on an in-memory polars frame against the `sluice` CLI on the same data as
Parquet, in one run (the 20 checks of ../shared/bench/checks.json, bench/sluice.yaml).

    python bench/python_frame.py [--rows 5000000] [--repeat 3] [--sluice PATH]

Needs a Python with polars and the `sluice` wheel (a release build: `maturin build
--release`), and a release `sluice` binary for the CLI side (cargo build --release). The data
is ../shared/bench's generator's (bench/data/n<rows>/, made if missing).

For each of --repeat rounds, alternately:
- CLI: `sluice check --config bench/sluice.yaml --no-state` as a whole process (start-up,
  reading the Parquet files, the checks, the samples of failed checks);
- frame: in one Python process that has `orders` and `orders_target` in memory as polars
  DataFrames (read before the clock starts: the pipeline made them), the time of
  `sluice.check({"orders": df, "orders_target": target})`, which includes importing the
  Arrow streams.
Prints the best of each, the ratio, the import time of `sluice`, and whether every check's
verdict and observed value agree.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import shared_data

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
NOW = "2025-01-01T00:00:00Z"

FRAME = r"""
import json, sys, time
t0 = time.perf_counter()
import sluice
t_import = time.perf_counter() - t0
import polars as pl
orders = pl.read_parquet(sys.argv[1])
target = pl.read_parquet(sys.argv[2])
t0 = time.perf_counter()
r = sluice.check({"orders": orders, "orders_target": target}, config=sys.argv[3],
                 vars={"ORDERS": sys.argv[1], "TARGET": sys.argv[2]}, record=False, now=sys.argv[4])
t = time.perf_counter() - t0
print(json.dumps({"check_s": t, "import_s": t_import, "report": r.to_dict()}))
"""


def numbers(v) -> list:
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return []
    if isinstance(v, (int, float)):
        return [float(v)]
    if isinstance(v, dict):
        return [x for k in sorted(v) for x in numbers(v[k])]
    if isinstance(v, list):
        return [x for e in v for x in numbers(e)]
    return []


def skeleton(v):
    """`v` with its numbers blanked: what must be equal exactly."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return "#"
    if isinstance(v, dict):
        return {k: skeleton(x) for k, x in v.items()}
    if isinstance(v, list):
        return [skeleton(x) for x in v]
    return v


def agree(a: dict, b: dict) -> list:
    """The checks whose status, observed shape or numbers differ. Numbers are compared to
    1e-9 of the largest number the check observed: a float sum's last digits depend on the
    order rows are added in (a file's row groups, a frame's partitions), and a difference of
    two such sums carries their rounding."""
    bad = []
    for x, y in zip(a["checks"], b["checks"]):
        nx, ny = numbers(x.get("observed")), numbers(y.get("observed"))
        scale = max([abs(n) for n in nx + ny] + [1.0])
        same = (x["name"], x["status"], skeleton(x.get("observed"))) == (y["name"], y["status"], skeleton(y.get("observed")))
        same = same and len(nx) == len(ny) and all(abs(p - q) <= 1e-9 * scale for p, q in zip(nx, ny))
        if not same:
            bad.append((x["name"], x["status"], x.get("observed"), y["status"], y.get("observed")))
    return bad if len(a["checks"]) == len(b["checks"]) else [("count", len(a["checks"]), len(b["checks"]))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sluice", default=None, help="sluice binary (default: the release build)")
    a = ap.parse_args()
    target_dir = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
    exe = a.sluice or os.path.join(target_dir, "release", "sluice")
    data = shared_data.ensure(a.rows)
    orders = os.path.join(data, "orders.parquet")
    target = os.path.join(data, "orders_target.parquet")
    config = os.path.join(HERE, "sluice.yaml")
    cli_cmd = [exe, "check", "--config", config, "--var", f"ORDERS={orders}", "--var", f"TARGET={target}",
               "--no-state", "--now", NOW, "--format", "json", "--quiet"]
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "frame.py")
        with open(script, "w") as f:
            f.write(FRAME)
        cli_times, frame_times, imports = [], [], []
        cli_report = frame_report = None
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            out = subprocess.run(cli_cmd, capture_output=True, text=True, cwd=tmp)
            cli_times.append(time.perf_counter() - t0)
            assert out.returncode in (0, 1), out.stderr
            cli_report = json.loads(out.stdout)
            out = subprocess.run([sys.executable, script, orders, target, config, NOW],
                                 capture_output=True, text=True, cwd=tmp)
            assert out.returncode == 0, out.stderr
            res = json.loads(out.stdout)
            frame_times.append(res["check_s"])
            imports.append(res["import_s"])
            frame_report = res["report"]
    differ = agree(cli_report, frame_report)
    cli, frame = min(cli_times), min(frame_times)
    print(f"rows: {a.rows:,}; best of {a.repeat}")
    print(f"  CLI on Parquet (whole process)    {cli:7.3f} s   runs: {', '.join(f'{t:.3f}' for t in cli_times)}")
    print(f"  sluice.check on polars frames     {frame:7.3f} s   runs: {', '.join(f'{t:.3f}' for t in frame_times)}")
    print(f"  ratio frame / CLI                 {frame / cli:7.2f}x  (target < 1.5x)")
    print(f"  `import sluice`                   {min(imports) * 1000:7.1f} ms")
    print(f"  verdicts and observed values agree: {'yes' if not differ else 'NO'}")
    for d in differ:
        print(f"    {d}")
    if differ:
        sys.exit(1)


if __name__ == "__main__":
    main()
