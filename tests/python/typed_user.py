"""A user's script, type-checked with `mypy --strict` by run.sh (never run): the public API
must type-check through the package's lazy exports."""

import polars as pl

import sluice


@sluice.check_output("forecast", config="sluice.yaml")
def predict() -> pl.DataFrame:
    return pl.DataFrame({"p50": [1.0]})


def gate(df: pl.DataFrame) -> int:
    try:
        report: sluice.Report = sluice.check(df, config="sluice.yaml", dataset="forecast", raise_on_fail=True)
    except sluice.ChecksFailed as e:
        return len(e.report.failed)
    except sluice.SchemaMismatch as e:
        return len(e.columns)
    rows: int | None = report.check("row_count").failing_rows
    decision: sluice.GuardDecision = sluice.guard("forecast")
    out: sluice.PublishOutcome = sluice.publish("forecast", data=df)
    return (rows or 0) + int(decision.may_publish) + int(out.published)
