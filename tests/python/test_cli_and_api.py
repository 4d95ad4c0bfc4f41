"""The wheel's `sluice` command (the CLI, in-process), `python -m sluice`, and the module's
guard, impact and publish: the same answers as the CLI."""

from __future__ import annotations

import json
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

import sluice
from conftest import sluice_cli, table

REPO = Path(__file__).resolve().parents[2]
ORDERS = REPO / "examples" / "orders" / "sluice.yaml"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sluice_cli(), *args], capture_output=True, text=True, cwd=cwd)


def test_the_console_script_is_the_cli_with_its_exit_codes(tmp_path: Path) -> None:
    v = run("--version")
    assert v.returncode == 0 and v.stdout.strip() == f"sluice {sluice.__version__}"
    failed = run("check", "--config", str(ORDERS), "--no-state")
    assert failed.returncode == 1, failed.stderr
    assert "orders" in failed.stdout
    usage = run("check", "--no-such-flag")
    assert usage.returncode == 2 and "--no-such-flag" in usage.stderr
    bad = tmp_path / "sluice.yaml"
    bad.write_text("version: 1\ndatasets:\n  x:\n    path: x.csv\n    checks:\n      - row_cont: {}\n")
    invalid = run("check", "--config", str(bad))
    assert invalid.returncode == 2 and f"{bad}:6:" in invalid.stderr
    missing = tmp_path / "m.yaml"
    missing.write_text("version: 1\ndatasets:\n  x:\n    path: nothing-here.csv\n    checks:\n      - row_count: { min: 1 }\n")
    assert run("check", "--config", str(missing), "--no-state").returncode == 4


def test_python_dash_m_sluice_runs_the_cli() -> None:
    out = subprocess.run([sys.executable, "-m", "sluice", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("sluice ")


def test_json_summary_is_the_last_line(tmp_path: Path) -> None:
    out = run("check", "--config", str(ORDERS), "--no-state", "--json-summary")
    last = out.stdout.strip().splitlines()[-1]
    assert json.loads(last)["exit_code"] == 1


def test_ctrl_c_stops_sluice_serve(tmp_path: Path) -> None:
    p = subprocess.Popen(
        [sluice_cli(), "serve", "--config", str(ORDERS), "--addr", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )
    time.sleep(1.5)
    assert p.poll() is None, p.stderr.read() if p.stderr else ""
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode in (0, -signal.SIGINT, 130), p.returncode


def test_start_up_time_is_printed() -> None:
    """Not a timed assertion: the median of 20 `sluice --version` from the wheel, printed
    for the CI log (the README quotes the figure)."""
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        subprocess.run([sluice_cli(), "--version"], capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    print(f"\nwheel start-up: sluice --version median {statistics.median(times) * 1000:.1f} ms over 20")


def test_guard_and_impact_answer_as_the_cli() -> None:
    cfg = REPO / "examples" / "lineage" / "sluice.yaml"
    node = "orders"
    cli = run("impact", node, "--config", str(cfg), "--format", "json", "--paths")
    assert cli.returncode == 0, cli.stderr
    assert sluice.impact(node, config=cfg).to_dict() == json.loads(cli.stdout)
    g = run("guard", "orders", "--config", str(ORDERS), "--format", "json")
    decision = sluice.guard("orders", config=ORDERS)
    assert decision.to_dict() == json.loads(g.stdout)
    with pytest.raises(sluice.NotFoundError):
        sluice.impact("no_such_node", config=cfg)


def publish_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "sluice.yaml"
    cfg.write_text(
        """\
version: 1
datasets:
  forecast:
    path: published/forecast/
    staging: staging/forecast/
    key: [region, ds]
    checks:
      - not_null: [region, ds, p50]
      - range: { column: p50, min: 0 }
"""
    )
    return cfg


def test_publish_writes_audits_and_publishes_a_good_frame(tmp_path: Path) -> None:
    cfg = publish_config(tmp_path)
    good = pl.from_arrow(table()).filter(pl.col("p50") >= 0).select("region", "ds", "p50")
    out = sluice.publish("forecast", config=cfg, data=good)
    assert out.status == "published" and out.published and out.exit_code == 0
    assert out.report is not None and out.report.status == "passed"
    published = pl.read_parquet(tmp_path / "published" / "forecast")
    assert published.height == good.height
    assert not any((tmp_path / "staging" / "forecast").iterdir())


def test_publish_quarantines_a_bad_frame_and_the_breaker_blocks(tmp_path: Path) -> None:
    cfg = publish_config(tmp_path)
    bad = pl.from_arrow(table()).select("region", "ds", "p50")
    out = sluice.publish("forecast", config=cfg, data=bad)
    assert out.status == "quarantined" and out.exit_code == 1
    assert Path(out.quarantine).exists()
    assert not (tmp_path / "published" / "forecast").exists() or not any((tmp_path / "published" / "forecast").iterdir())
    assert not sluice.guard("forecast", config=cfg).may_publish
    # The open breaker blocks the next publish, as `sluice publish` (exit 3).
    blocked = sluice.publish("forecast", config=cfg, data=bad)
    assert blocked.status == "blocked" and blocked.exit_code == 3
    assert blocked.report is None and blocked.blocked_by[0]["dataset"] == "forecast"


def test_publish_never_overwrites_staged_data(tmp_path: Path) -> None:
    cfg = publish_config(tmp_path)
    staged = tmp_path / "staging" / "forecast"
    staged.mkdir(parents=True)
    (staged / "earlier.parquet").write_bytes(b"PAR1")
    with pytest.raises(sluice.ConflictError, match="already holds data"):
        sluice.publish("forecast", config=cfg, data=pl.from_arrow(table()))
    assert (staged / "earlier.parquet").read_bytes() == b"PAR1"


def test_publish_from_python_and_cli_share_the_state(tmp_path: Path) -> None:
    cfg = publish_config(tmp_path)
    sluice.publish("forecast", config=cfg, data=pl.from_arrow(table()).select("region", "ds", "p50"))
    status = subprocess.run([sluice_cli(), "breaker", "status", "--config", str(cfg), "--format", "json"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert status.returncode in (0, 3), status.stderr
    breakers = json.loads(status.stdout)["breakers"]
    assert [(b["dataset"], b["state"]) for b in breakers] == [("forecast", "open")]


def test_vars_fill_the_config(tmp_path: Path) -> None:
    cfg = tmp_path / "sluice.yaml"
    cfg.write_text("version: 1\ndatasets:\n  f:\n    path: ${DIR}/f.parquet\n    checks:\n      - row_count: { min: 3 }\n")
    r = sluice.check(pl.DataFrame({"a": [1, 2]}), config=cfg, vars={"DIR": "x"}, record=False)
    assert r.check("row_count").status == "fail"
    assert r.datasets[0].path == "x/f.parquet"
    with pytest.raises(sluice.ConfigError, match="DIR"):
        sluice.check(pl.DataFrame({"a": [1, 2]}), config=cfg, record=False)


def test_the_forecast_gate_example_writes_a_good_forecast_and_refuses_a_bad_one(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples" / "python", tmp_path / "examples" / "python",
                    ignore=shutil.ignore_patterns("out"))
    shutil.copytree(REPO / "examples" / "forecast_gate" / "data", tmp_path / "examples" / "forecast_gate" / "data")
    script = tmp_path / "examples" / "python" / "forecast_gate.py"
    out = tmp_path / "examples" / "python" / "out" / "forecast.parquet"
    bad = subprocess.run([sys.executable, str(script), "--bad"], capture_output=True, text=True)
    assert bad.returncode == 1, bad.stderr
    assert "refused, nothing written" in bad.stdout and "completeness" in bad.stdout
    assert not out.exists()
    good = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert good.returncode == 0, good.stdout + good.stderr
    assert out.exists() and pl.read_parquet(out).height == 42


def test_the_command_loads_only_the_extension() -> None:
    """The console script's start-up: importing `sluice._cli` must not pull in the
    Python API's modules (they are loaded on first use)."""
    code = "import sys, sluice._cli; print(sorted(m for m in sys.modules if m.startswith('sluice')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['sluice', 'sluice._cli', 'sluice._native']"
    lazy = subprocess.run([sys.executable, "-c", "import sluice; print(sluice.Report.__name__, sluice.check.__module__)"],
                          capture_output=True, text=True, check=True)
    assert lazy.stdout.split() == ["Report", "sluice._api"]
