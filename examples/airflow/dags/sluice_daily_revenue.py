"""sluice in an Airflow DAG: the daily revenue pipeline of examples/airflow/.

    ingest ─▶ stage_checks ─▶ transform ─▶ publish_gate ─▶ publish ─▶ report

Every sluice step is a plain BashOperator running the sluice binary: nothing to import,
no Python dependency to reconcile with Airflow's. The day is passed as `{{ ds }}`:
`--var ds={{ ds }}` fills `${ds}` in sluice.yaml (where the day's orders are), and
`--partition ds={{ ds }}` is the slice the run's metrics are recorded under.

How sluice's exit codes become task states (the README has the table):

- 0: success. With --json-summary the last line sluice prints is a one-line JSON summary,
  which BashOperator pushes to XCom (`publish` below reads the gate's).
- 1 (checks failed; `publish` quarantined the data): the task fails, and the tasks after
  it are upstream_failed.
- 3 (blocked: a breaker on the dataset or upstream of it is open): the task fails. A
  skipped gate would let tasks with trigger rules such as none_failed or all_done run as if
  the data had been published. To skip instead, give sluice `--blocked-exit-code 99`:
  BashOperator skips a task that exits with skip_on_exit_code (99 by default). Here
  SLUICE_SKIP_WHEN_BLOCKED=1 turns that on.
- 2 (invalid config or invocation) and 4 (a source could not be read, a check could not
  run, the state store could not be opened): the task fails; 4 is often worth a retry.

Settings, read when the DAG file is parsed:

- SLUICE_BIN: the sluice binary (default: `sluice` on PATH, as `pip install` puts it).
- SLUICE_PROJECT: the folder of sluice.yaml and the data (default: this file's parent's
  parent, examples/airflow/).
- SLUICE_SKIP_WHEN_BLOCKED=1: a blocked gate is skipped instead of failed.
"""

from __future__ import annotations

import os
import shlex
import sys
from datetime import datetime
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

PROJECT = os.environ.get("SLUICE_PROJECT") or str(Path(__file__).resolve().parent.parent)
SLUICE = shlex.quote(os.environ.get("SLUICE_BIN") or "sluice")
SKIP_WHEN_BLOCKED = os.environ.get("SLUICE_SKIP_WHEN_BLOCKED") == "1"

# The day, for every sluice command that reads data.
DAY = "--var ds={{ ds }} --partition ds={{ ds }}"
# The exit code of a blocked gate: 3 (the task fails) unless asked to skip.
BLOCKED = " --blocked-exit-code 99" if SKIP_WHEN_BLOCKED else ""

with DAG(
    dag_id="sluice_daily_revenue",
    description="Daily revenue per region, gated by sluice checks and breakers",
    schedule="@daily",
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    tags=["sluice", "example"],
    default_args={"cwd": PROJECT, "retries": 0},
) as dag:
    # The source system drops one file a day in incoming/; land it where sluice.yaml's
    # `orders` dataset reads it.
    ingest = BashOperator(
        task_id="ingest",
        bash_command=(
            "mkdir -p landing/orders/ds={{ ds }} && "
            "cp incoming/orders_{{ ds }}.csv landing/orders/ds={{ ds }}/orders.csv"
        ),
    )

    # The landed input: exit 1 here stops the DAG before anything is computed from it, and
    # opens the `orders` breaker, which every publish downstream of it then respects.
    stage_checks = BashOperator(
        task_id="stage_checks",
        bash_command=f"{SLUICE} check --dataset orders {DAY} --json-summary",
    )

    # Any transform (dbt, Spark, SQL...): it writes the day's output to the dataset's
    # `staging:` folder, where nobody reads it yet.
    transform = BashOperator(
        task_id="transform",
        bash_command=(
            "mkdir -p staging/daily_revenue && "
            "awk -v ds={{ ds }} -f transform.awk reference/fx_rates.csv "
            "landing/orders/ds={{ ds }}/orders.csv > staging/daily_revenue/part-0.csv"
        ),
    )

    # Write–audit–publish: refuse while a breaker upstream is open (exit 3); check the
    # staged data; promote it atomically (exit 0) or quarantine it and open the breaker
    # (exit 1). The JSON summary (version, run id, counts) goes to XCom.
    publish_gate = BashOperator(
        task_id="publish_gate",
        bash_command=f"{SLUICE} publish daily_revenue {DAY} --json-summary{BLOCKED}",
        skip_on_exit_code=99,
    )

    # Hand the promoted version to its consumers (here: the finance team's drop folder),
    # naming the version from the gate's XCom summary.
    publish = BashOperator(
        task_id="publish",
        env={"GATE": "{{ ti.xcom_pull(task_ids='publish_gate') }}"},
        append_env=True,
        bash_command=(
            f"version=$({shlex.quote(sys.executable)} -c "
            "'import json, os; print(json.loads(os.environ[\"GATE\"])[\"version\"])') && "
            "mkdir -p exports/ds={{ ds }} && "
            "cp published/daily_revenue/part-0.csv exports/ds={{ ds }}/daily_revenue.csv && "
            'echo "delivered daily_revenue $version for {{ ds }}"'
        ),
    )

    # What the business reads in the morning.
    report = BashOperator(
        task_id="report",
        bash_command=(
            "mkdir -p reports && "
            "awk -F, 'NR > 1 { n += $3; r += $4 } "
            'END { printf "{{ ds }}: %d orders, %.2f EUR\\n", n, r }\' '
            "exports/ds={{ ds }}/daily_revenue.csv | tee reports/revenue_{{ ds }}.txt"
        ),
    )

    ingest >> stage_checks >> transform >> publish_gate >> publish >> report
