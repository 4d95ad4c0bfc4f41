"""Bad input raises a clear Python exception and never takes the interpreter down."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

import sluice
from conftest import table


def test_an_object_that_is_not_arrow_is_a_type_error_naming_what_is_accepted(work: Path) -> None:
    for bad in (42, [1, 2, 3], "data.parquet"):
        with pytest.raises(TypeError) as e:
            sluice.check(bad, config=work / "sluice.yaml", dataset="forecast")  # type: ignore[arg-type]
        assert "__arrow_c_stream__" in str(e.value) and "polars" in str(e.value), str(e.value)
    with pytest.raises(TypeError, match=r'data\["forecast"\] must be .*; got int$'):
        sluice.check({"forecast": 1}, config=work / "sluice.yaml")  # type: ignore[dict-item]


def test_a_lazy_frame_says_to_collect_it(work: Path) -> None:
    with pytest.raises(TypeError, match=r"LazyFrame: call \.collect\(\) first"):
        sluice.check(pl.from_arrow(table()).lazy(), config=work / "sluice.yaml", dataset="forecast")  # type: ignore[arg-type]


def test_an_unknown_dataset_is_not_found_with_a_suggestion(work: Path) -> None:
    with pytest.raises(sluice.NotFoundError) as e:
        sluice.check(pl.from_arrow(table()), config=work / "sluice.yaml", dataset="forcast")
    assert "forcast" in str(e.value) and "forecast" in str(e.value)
    assert isinstance(e.value, LookupError) and e.value.exit_code == 2
    with pytest.raises(sluice.NotFoundError):
        sluice.check({"nope": pl.from_arrow(table())}, config=work / "sluice.yaml")


def test_a_frame_without_a_dataset_when_the_config_has_several_asks_which(work: Path) -> None:
    with pytest.raises(sluice.ConfigError, match="say which dataset.*forecast, actuals"):
        sluice.check(pl.from_arrow(table()), config=work / "sluice.yaml")


def test_a_frame_missing_checked_columns_is_a_schema_mismatch(work: Path) -> None:
    frame = pl.from_arrow(table()).drop("p50", "price")
    with pytest.raises(sluice.SchemaMismatch) as e:
        sluice.check(frame, config=work / "sluice.yaml", dataset="forecast", record=False)
    assert ("forecast", "p50") in e.value.columns and ("forecast", "price") in e.value.columns
    assert "forecast.p50" in str(e.value)
    assert isinstance(e.value, ValueError)
    assert e.value.report.check("range(p50)").status == "error"


def test_an_invalid_config_is_a_config_error_with_file_line_col(work: Path) -> None:
    cfg = work / "sluice.yaml"
    cfg.write_text(cfg.read_text().replace("row_count: { min: 1 }", "row_cont: { min: 1 }"))
    with pytest.raises(sluice.ConfigError) as e:
        sluice.check(pl.from_arrow(table()), config=cfg, dataset="forecast")
    assert f"{cfg}:7:" in str(e.value), str(e.value)
    assert "row_count" in str(e.value)  # did you mean
    with pytest.raises(sluice.ConfigError, match="no-such.yaml"):
        sluice.check(pl.from_arrow(table()), config=work / "no-such.yaml", dataset="forecast")


def test_a_stream_failing_part_way_is_a_data_error_and_nothing_is_recorded(work: Path) -> None:
    t = table()

    def batches():
        yield t.to_batches()[0].slice(0, 10)
        raise RuntimeError("the model crashed while writing")

    reader = pa.RecordBatchReader.from_batches(t.schema, batches())
    with pytest.raises(sluice.DataError, match="the model crashed while writing"):
        sluice.check(reader, config=work / "sluice.yaml", dataset="forecast")
    assert not (work / ".sluice").exists()


def test_a_stream_export_raising_propagates_its_exception(work: Path) -> None:
    class Broken:
        def __arrow_c_stream__(self, requested_schema: object = None) -> object:
            raise ImportError("pyarrow is required for pandas' Arrow export")

    with pytest.raises(ImportError, match="pyarrow is required"):
        sluice.check(Broken(), config=work / "sluice.yaml", dataset="forecast")  # type: ignore[arg-type]

    class NotACapsule:
        def __arrow_c_stream__(self, requested_schema: object = None) -> object:
            return 7

    with pytest.raises(TypeError, match="did not return a PyCapsule"):
        sluice.check(NotACapsule(), config=work / "sluice.yaml", dataset="forecast")  # type: ignore[arg-type]


def test_an_untyped_all_none_polars_column_says_to_type_it(work: Path) -> None:
    frame = pl.DataFrame({"region": ["north"], "ds": [None]})
    with pytest.raises(sluice.DataError, match="without a type: give it one"):
        sluice.check(frame, config=work / "sluice.yaml", dataset="actuals", record=False)


def test_naive_now_is_refused(work: Path) -> None:
    import datetime as dt

    with pytest.raises(ValueError, match="timezone-aware"):
        sluice.check(pl.from_arrow(table()), config=work / "sluice.yaml", dataset="forecast", now=dt.datetime(2026, 1, 1))


def test_bad_inputs_never_crash_the_interpreter(work: Path) -> None:
    """In a child interpreter: every bad input above, then a normal exit."""
    code = f"""
import sluice, polars as pl, pyarrow as pa
cfg = {str(work / 'sluice.yaml')!r}
for bad in (None, 42, object(), {{'forecast': 3}}, pl.DataFrame({{'x': [1]}}).lazy()):
    try:
        sluice.check(bad, config=cfg, dataset='forecast', record=False)
    except (TypeError, sluice.SluiceError):
        pass
try:
    sluice.check(pl.DataFrame({{'x': [1]}}), config=cfg, dataset='forecast', record=False)
except sluice.SchemaMismatch:
    pass
print('alive')
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=work)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "alive"


def test_ctrl_c_during_a_check_raises_keyboard_interrupt_and_the_module_still_works(work: Path) -> None:
    import _thread
    import threading

    # Enough work (a GROUP BY of 6M distinct strings) that the check is still running when
    # the interrupt arrives 0.1 s in: with 3M rows and 0.2 s it finished first once the
    # regex stopped being compiled per batch.
    n = 6_000_000
    big = pl.DataFrame({"region": pl.int_range(0, n, eager=True).cast(pl.String), "units": pl.repeat(1.0, n, eager=True)})
    cfg = work / "sluice.yaml"
    cfg.write_text(cfg.read_text().replace("      - not_null: [units]\n", "      - not_null: [units]\n      - unique: region\n      - matches: { column: region, regex: '^[0-9]+$' }\n"))
    timer = threading.Timer(0.1, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sluice.check(big, config=cfg, dataset="actuals", record=False)
    finally:
        timer.cancel()
    r = sluice.check(big.head(10), config=cfg, dataset="actuals", record=False)
    assert r.status == "passed"
