"""Assertions on one run of the example DAG, for tests/airflow/run.sh.

    python expect.py SCENARIO --project DIR --date YYYY-MM-DD --log DAGS_TEST_OUTPUT

SCENARIO is `passing`, `failing`, `breaker_open` or `blocked_skips`. The task states come
from `airflow tasks states-for-dag-run DAG DATE -o json` (AIRFLOW_HOME from the
environment), XCom from the `xcom` table of Airflow's SQLite database (Airflow 3 has no
xcom CLI), and each task's log from the output of `airflow dags test`, where tasks log
in-process. Prints one `ok`/`FAIL` line per assertion; exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

DAG = "sluice_daily_revenue"
TASKS = ["ingest", "stage_checks", "transform", "publish_gate", "publish", "report"]

failures = 0


def check(ok: bool, what: str, detail: object = "") -> bool:
    global failures
    print(f"  {'ok  ' if ok else 'FAIL'} {what}" + ("" if ok else f": {detail}"))
    if not ok:
        failures += 1
    return ok


def states(date: str) -> dict[str, str]:
    airflow = str(Path(sys.executable).with_name("airflow"))
    out = subprocess.run(
        [airflow, "tasks", "states-for-dag-run", DAG, date, "-o", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # The JSON is the last line; Airflow may log before it.
    rows = json.loads(out.strip().splitlines()[-1])
    return {r["task_id"]: r["state"] for r in rows}


def xcoms() -> dict[str, object]:
    db = Path(os.environ["AIRFLOW_HOME"]) / "airflow.db"
    with sqlite3.connect(db) as c:
        rows = c.execute(
            "SELECT task_id, value FROM xcom WHERE dag_id = ? AND key = 'return_value'",
            (DAG,),
        ).fetchall()
    return {task: json.loads(value) for task, value in rows}


def task_output(log: str, task: str) -> list[str]:
    """What the task's command printed, line by line, as Airflow logged it."""
    lines: list[str] = []
    inside = False
    for line in log.splitlines():
        if f"[DAG TEST] starting task_id={task} " in line:
            inside = True
        elif "[DAG TEST] starting task_id=" in line or f"[DAG TEST] end task task_id={task} " in line:
            inside = False
        elif inside and "SubprocessHook" in line and "subprocess.py:106" in line:
            m = re.match(r"^\S+ \[\w+\s*\] (.*?) \[airflow\.task\.hooks", line)
            if m:
                lines.append(m.group(1))
    return lines


def summary_is_last(log: str, task: str, status: str, exit_code: int) -> dict:
    out = task_output(log, task)
    if not check(bool(out), f"{task} printed something", out):
        return {}
    try:
        last = json.loads(out[-1])
    except ValueError:
        check(False, f"{task}'s last line is the JSON summary", out[-1])
        return {}
    check(
        last.get("status") == status and last.get("exit_code") == exit_code,
        f"{task}'s last line is the JSON summary: status {status}, exit code {exit_code}",
        last,
    )
    return last


def expect_states(got: dict[str, str], want: dict[str, str]) -> None:
    for task in TASKS:
        check(got.get(task) == want[task], f"{task} is {want[task]}", got.get(task))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("scenario", choices=["passing", "failing", "breaker_open", "blocked_skips"])
    p.add_argument("--project", type=Path, required=True)
    p.add_argument("--date", required=True)
    p.add_argument("--log", type=Path, required=True)
    a = p.parse_args()
    project, date = a.project, a.date
    log = a.log.read_text(errors="replace")
    got = states(date)
    staged = project / "staging/daily_revenue/part-0.csv"
    published = project / "published/daily_revenue"
    quarantine = project / "quarantine/daily_revenue"

    if a.scenario == "passing":
        expect_states(got, {t: "success" for t in TASKS})
        x = xcoms()
        for task, status in [("stage_checks", "passed"), ("publish_gate", "published")]:
            try:
                s = json.loads(x.get(task, ""))
            except (TypeError, ValueError):
                check(False, f"{task}'s XCom is the JSON summary", x.get(task))
                continue
            check(
                s.get("status") == status and s.get("exit_code") == 0,
                f"{task}'s XCom is the JSON summary (status {status})",
                s,
            )
            if task == "publish_gate":
                check(s.get("version") == "v1", "the gate's summary names the version, v1", s)
                check(
                    s.get("summary", {}).get("failed") == 0 and s.get("summary", {}).get("total", 0) > 0,
                    "the gate's summary counts the checks",
                    s,
                )
        check(x.get("publish") == f"delivered daily_revenue v1 for {date}",
              "publish read the version from the gate's XCom", x.get("publish"))
        check(published.is_symlink() and (published / "part-0.csv").is_file(),
              "published/daily_revenue points at the new version", published)
        check((project / f"exports/ds={date}/daily_revenue.csv").is_file(), "publish delivered the data")
        check((project / f"reports/revenue_{date}.txt").is_file(), "report wrote the report")
        check(not staged.exists(), "nothing is left in staging")

    elif a.scenario == "failing":
        expect_states(got, {
            "ingest": "success", "stage_checks": "success", "transform": "success",
            "publish_gate": "failed", "publish": "upstream_failed", "report": "upstream_failed",
        })
        out = "\n".join(task_output(log, "publish_gate"))
        check("FAIL   range(revenue_eur)" in out, "the gate's log shows the failing check", out)
        summary_is_last(log, "publish_gate", "quarantined", 1)
        runs = [d for d in quarantine.iterdir()] if quarantine.is_dir() else []
        check(len(runs) == 1, "the staged data is quarantined (one run folder)", runs)
        if runs:
            check((runs[0] / "data/part-0.csv").is_file(), "the quarantine holds the staged file",
                  sorted(str(f) for f in runs[0].rglob("*")))
            report = runs[0] / "report.json"
            check(report.is_file() and json.loads(report.read_text()).get("status") == "failed",
                  "the quarantine holds the failed run's report.json")
        check(not staged.exists(), "staging is empty")
        check(not published.exists(), "nothing was published")
        check("publish_gate" not in xcoms(), "a failed gate pushes no XCom")

    else:  # a breaker open upstream (fx_rates, owner treasury), failing or skipping the gate
        skip = a.scenario == "blocked_skips"
        gate = "skipped" if skip else "failed"
        after = "skipped" if skip else "upstream_failed"
        expect_states(got, {
            "ingest": "success", "stage_checks": "success", "transform": "success",
            "publish_gate": gate, "publish": after, "report": after,
        })
        out = "\n".join(task_output(log, "publish_gate"))
        check(re.search(r"fx_rates \(upstream\)\s+open since .*owner treasury", out) is not None,
              "the gate's log names the open breaker (fx_rates, upstream) and its owner (treasury)", out)
        last = summary_is_last(log, "publish_gate", "blocked", 99 if skip else 3)
        blocked_by = [b.get("dataset") for b in last.get("blocked_by", [])]
        check(blocked_by == ["fx_rates"], "the summary's blocked_by is fx_rates", blocked_by)
        check(staged.is_file(), "the staged data is left where it was (not quarantined)")
        check(not quarantine.exists(), "nothing was quarantined")
        check(not published.exists(), "nothing was published")

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
