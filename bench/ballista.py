#!/usr/bin/env python3
"""sluice on a Ballista cluster beside sluice in-process, on this machine (issue 17): the
20-check suite on 5M rows and the keyed diff of 10M rows a side, with a scheduler and two
executors started here on loopback (`sluice ballista scheduler|executor`).

    cargo build --release --features ballista
    ~/.cache/sluice-bench-venv/bin/python bench/ballista.py [--repeat 3] [--quick] [--json out.json]

Data: the shared benchmark's orders (bench/shared_data.py, generated once into bench/data/).
Each run is a whole `sluice check` process; the table gives median and best wall time and
the client's peak RSS (wait4), and after the runs the executors' and the scheduler's peak
RSS (VmHWM). Verdicts and diff counts are compared with checks.json / the generator's
manifest and between the two engines; the script exits 1 if they disagree. One machine
gives no speed-up: this measures what the cluster costs.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import harness
import shared_data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Cluster:
    """A scheduler and `n` executors (each with the machine's cores as task slots)."""

    def __init__(self, sluice: str, n: int, work: str):
        port = free_port()
        self.engine = f"ballista://127.0.0.1:{port}"
        log = open(os.path.join(work, "cluster.log"), "w")
        self.scheduler = subprocess.Popen([sluice, "ballista", "scheduler", "--bind", f"127.0.0.1:{port}"],
                                          stdout=subprocess.DEVNULL, stderr=log)
        wait_port(port)
        self.executors = []
        for i in range(n):
            flight, grpc = free_port(), free_port()
            self.executors.append(subprocess.Popen(
                [sluice, "ballista", "executor", "--scheduler", f"127.0.0.1:{port}", "--flight-port", str(flight),
                 "--grpc-port", str(grpc), "--work-dir", os.path.join(work, f"executor{i}")],
                stdout=subprocess.DEVNULL, stderr=log))
            wait_port(flight)
        time.sleep(1)

    def rss(self) -> dict[str, float]:
        out = {"scheduler": peak_rss_mib(self.scheduler.pid)}
        for i, e in enumerate(self.executors):
            out[f"executor {i}"] = peak_rss_mib(e.pid)
        return out

    def stop(self) -> None:
        for p in [*self.executors, self.scheduler]:
            p.kill()
            p.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="500k-row suite, 500k-row diff")
    ap.add_argument("--sluice", default=None, help="a sluice built with --features ballista (default: release)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    sluice = harness.sluice_binary(a.sluice)
    suite_rows, diff_rows = (500_000, 500_000) if a.quick else (5_000_000, 10_000_000)
    work = tempfile.mkdtemp(prefix="sluice-ballista-bench-")
    cluster = Cluster(sluice, 2, work)
    results: dict[str, dict] = {}
    failed: list[str] = []
    try:
        # The suite.
        data = shared_data.ensure(suite_rows)
        harness.warm(*harness.paths(data))
        runs: dict[str, list[harness.Run]] = {"in-process": [], "ballista": []}
        reports: dict[str, dict] = {}
        for i in range(a.repeat):
            for label, extra in (("in-process", ()), ("ballista", ("--engine", cluster.engine))):
                report = os.path.join(work, f"suite-{label}.json")
                r = harness.run(harness.suite_cmd(sluice, data, report, extra=extra))
                if r.code not in (0, 1):
                    sys.exit(f"suite {label} failed ({r.code}): {r.err}")
                runs[label].append(r)
                with open(report) as f:
                    reports[label] = json.load(f)
            print(f"  suite: run {i + 1}/{a.repeat}", file=sys.stderr, flush=True)
        verdicts = {k: harness.sluice_verdicts(v) for k, v in reports.items()}
        bad = harness.disagreements(harness.expected_verdicts(), *verdicts.values())
        if bad:
            failed.append(f"suite verdicts disagree on {bad}")
        results["suite"] = summarize(f"20-check suite, {suite_rows:,} rows", runs, not bad)

        # The keyed diff.
        data = shared_data.ensure(diff_rows)
        orders, target = harness.paths(data)
        harness.warm(orders, target)
        with open(os.path.join(data, "manifest.json")) as f:
            manifest = json.load(f)
        cfg = os.path.join(work, "diff.yaml")
        harness.write_diff_config(cfg, orders, target)
        runs = {"in-process": [], "ballista": []}
        counts = {}
        for i in range(a.repeat):
            for label, extra in (("in-process", []), ("ballista", ["--engine", cluster.engine])):
                report = os.path.join(work, f"diff-{label}.json")
                r = harness.run(harness.diff_cmd(sluice, cfg, report, "4G") + extra)
                if r.code not in (0, 1):
                    sys.exit(f"diff {label} failed ({r.code}): {r.err}")
                runs[label].append(r)
                counts[label] = harness.diff_rows(manifest, harness.diff_observed(report))
            print(f"  diff: run {i + 1}/{a.repeat}", file=sys.stderr, flush=True)
        same = counts["in-process"] == counts["ballista"] and all(c[4] for c in counts["ballista"])
        if not same:
            failed.append(f"diff counts disagree: {counts}")
        results["diff"] = summarize(f"keyed diff, {diff_rows:,} rows a side", runs, same)
        results["cluster_peak_rss_mib"] = cluster.rss()
    finally:
        cluster.stop()
    print(f"\ncluster peak RSS (MiB): " + ", ".join(f"{k} {v:,.0f}" for k, v in results["cluster_peak_rss_mib"].items()))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)
    if failed:
        sys.exit("; ".join(failed))


def summarize(title: str, runs: dict[str, list[harness.Run]], agree: bool) -> dict:
    base = statistics.median(r.wall for r in runs["in-process"])
    print(f"\n{title} (verdicts {'agree' if agree else 'DISAGREE'})")
    print(f"  {'engine':<12} {'median s':>9} {'best s':>8} {'client peak MiB':>16} {'vs in-process':>14}")
    out = {}
    for label, rs in runs.items():
        med = statistics.median(r.wall for r in rs)
        best = min(r.wall for r in rs)
        rss = max(r.rss_mib for r in rs)
        print(f"  {label:<12} {med:>9.3f} {best:>8.3f} {rss:>16,.0f} {med / base:>13.2f}x")
        out[label] = {"median_s": med, "best_s": best, "client_peak_rss_mib": rss, "ratio": med / base}
    return out


if __name__ == "__main__":
    main()
