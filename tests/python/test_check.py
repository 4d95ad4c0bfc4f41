"""`sluice.check` on polars, pandas and pyarrow frames: the same verdicts as the CLI on the
same data as Parquet; mappings, parity and cross-dataset checks; the report object."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import sluice
from conftest import NOW, actuals, cli_report, table, verdicts


def as_polars(t: pa.Table) -> pl.DataFrame:
    df = pl.from_arrow(t)
    assert isinstance(df, pl.DataFrame)
    # polars' own categorical (exported as a dictionary of string views).
    return df.with_columns(pl.col("tier").cast(pl.Categorical))


def as_pandas(t: pa.Table) -> pd.DataFrame:
    df = t.to_pandas()
    assert isinstance(df["tier"].dtype, pd.CategoricalDtype)
    return df


def as_polars_chunked(t: pa.Table) -> pl.DataFrame:
    """Five chunks of different lengths (no rechunk)."""
    df = as_polars(t)
    cuts = [0, 1, 50, 51, 230, len(df)]
    parts = [df.slice(a, b - a) for a, b in zip(cuts, cuts[1:])]
    out = pl.concat(parts, rechunk=False)
    assert out.n_chunks() == 5
    return out


def as_reader(t: pa.Table) -> pa.RecordBatchReader:
    """A one-shot stream: read once, replayed for every scan."""
    return pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=37))


KINDS = {
    "polars": as_polars,
    "polars-chunked": as_polars_chunked,
    "pandas": as_pandas,
    "pandas-arrow-dtypes": lambda t: t.to_pandas(types_mapper=pd.ArrowDtype),
    "pyarrow-table": lambda t: t,
    "pyarrow-reader": as_reader,
    "duckdb-relation": lambda t: duckdb.from_arrow(t),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_frame_gives_the_verdicts_of_its_parquet_file(work: Path, kind: str) -> None:
    want = cli_report(work, "forecast")
    frame = KINDS[kind](table())
    got = sluice.check(frame, config=work / "sluice.yaml", dataset="forecast", record=False, now=NOW)
    assert verdicts(got.to_dict()) == verdicts(want)
    # The failures the data was built with are caught (not just equal by accident).
    status = {c.name: c.status for c in got.checks}
    assert status["not_null(p50)"] == "fail" and got.check("not_null(p50)").failing_rows == 7
    assert got.check("unique(region, ds)").failing_rows == 2
    assert got.check("quantiles_ordered(p10, p50, p90)").failing_rows == 7  # 3 negative p50 + 4 crossed
    assert got.check("length(note)").failing_rows == 11
    assert status["price_range"] == "fail" and got.check("price_range").failing_rows == 2
    assert status["tier_values"] == "fail"
    assert status["freshness(made_at)"] == "pass"
    assert got.status == "failed" and not got.ok
    assert got.datasets[0].format == "frame"


def test_samples_of_a_one_shot_stream_match_the_file_in_order(work: Path) -> None:
    want = cli_report(work, "forecast")
    for _ in range(2):
        got = sluice.check(as_reader(table()), config=work / "sluice.yaml", dataset="forecast", record=False, now=NOW)
        for c, w in zip(got.to_dict()["checks"], want["checks"]):
            assert c["samples"] == w["samples"], c["name"]


def test_a_mapping_checks_every_frame_and_compares_frames_with_each_other(work: Path) -> None:
    cfg = work / "sluice.yaml"
    cfg.write_text(
        cfg.read_text()
        + """\
    parity:
      - against: forecast
        column_map: { units: p50 }
        row_count: { tolerance_pct: 0 }
        keys: [region, ds]
        compare:
          units: { tolerance: 0.01 }
"""
    )
    want = cli_report(work)
    got = sluice.check(
        {"forecast": pl.from_arrow(table()), "actuals": actuals().to_pandas()},
        config=cfg,
        record=False,
        now=NOW,
    )
    assert {d.name for d in got.datasets} == {"forecast", "actuals"}
    assert verdicts(got.to_dict()) == verdicts(want)


def test_a_frame_is_compared_with_a_file(work: Path) -> None:
    """Only `actuals` as a frame; `forecast` (its parity side) is read from its file."""
    cfg = work / "sluice.yaml"
    cfg.write_text(
        cfg.read_text()
        + """\
      - references: { column: region, dataset: forecast, name: known_region }
"""
    )
    got = sluice.check(pl.from_arrow(actuals()), config=cfg, dataset="actuals", record=False)
    want = cli_report(work, "actuals")
    assert verdicts(got.to_dict()) == verdicts(want)
    assert got.check("known_region").status == "pass"


def test_report_round_trips_and_matches_the_cli_document(work: Path) -> None:
    got = sluice.check(pl.from_arrow(table()), config=work / "sluice.yaml", dataset="forecast", record=False, now=NOW)
    assert got.to_dict() == json.loads(got.to_json())
    want = cli_report(work, "forecast")
    d = got.to_dict()
    for k in ("run_id", "started_at", "finished_at", "duration_ms", "config"):
        d.pop(k), want.pop(k)
    for ds in d["datasets"] + want["datasets"]:
        ds.pop("duration_ms"), ds.pop("format"), ds.pop("files")
    for c in d["checks"] + want["checks"]:
        c.pop("duration_ms", None)
    assert d == want
    assert "failed" in repr(got)


def test_retries_are_empty_in_process_and_read_from_a_cluster_report(work: Path) -> None:
    got = sluice.check(pl.from_arrow(table()), config=work / "sluice.yaml", dataset="forecast", record=False, now=NOW)
    assert got.retries == []
    doc = got.to_dict()
    doc["retries"] = [{"job": "J1", "stage": "0", "tasks": 1, "reason": "Task failure due to Executor e1 lost"}]
    assert sluice.Report.from_json(json.dumps(doc)).retries == doc["retries"]


def test_raise_on_fail_raises_with_the_report(work: Path) -> None:
    with pytest.raises(sluice.ChecksFailed) as e:
        sluice.check(pl.from_arrow(table()), config=work / "sluice.yaml", dataset="forecast",
                     raise_on_fail=True, record=False, now=NOW)
    assert e.value.report.status == "failed"
    assert "forecast.not_null(p50)" in str(e.value)
    assert e.value.exit_code == 1


def test_clean_data_passes_and_raises_nothing(work: Path) -> None:
    good = pl.DataFrame({"region": ["north"], "ds": [None], "units": [3.0]}, schema_overrides={"ds": pl.Date})
    r = sluice.check(good, config=work / "sluice.yaml", dataset="actuals", raise_on_fail=True, record=False)
    assert r.status == "passed" and r.ok


def test_an_empty_frame_is_zero_rows(work: Path) -> None:
    empty = pl.from_arrow(table()).head(0)
    r = sluice.check(empty, config=work / "sluice.yaml", dataset="forecast", record=False, now=NOW)
    assert r.check("row_count").status == "fail"
    assert r.datasets[0].rows_scanned == 0


def test_the_run_is_recorded_like_the_cli(work: Path) -> None:
    r = sluice.check(pl.from_arrow(table()), config=work / "sluice.yaml", dataset="forecast", now=NOW)
    assert r.status == "failed"
    assert (work / ".sluice" / "state.db").exists()
    decision = sluice.guard("forecast", config=work / "sluice.yaml")
    assert not decision.may_publish and not decision
    assert decision.blocked_by[0]["dataset"] == "forecast"


def test_check_output_decorates_a_function_returning_a_frame(work: Path) -> None:
    cfg = work / "sluice.yaml"

    @sluice.check_output("actuals", config=cfg, record=False)
    def make(ok: bool) -> pl.DataFrame:
        units = [1.0, 2.0] if ok else [1.0, None]
        return pl.DataFrame({"region": ["a", "b"], "units": units})

    assert make(True).height == 2
    with pytest.raises(sluice.ChecksFailed) as e:
        make(False)
    assert e.value.report.check("not_null(units)").failing_rows == 1
