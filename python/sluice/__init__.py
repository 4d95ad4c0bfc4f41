"""sluice: data-pipeline reliability — quality and parity checks declared in YAML, run over
Arrow data with DataFusion, circuit breakers and write–audit–publish.

From Python, a polars, pandas or pyarrow frame (anything with ``__arrow_c_stream__``) is
gated in-process, with the same ``sluice.yaml`` as the ``sluice`` command and without
copying the data::

    import polars as pl, sluice

    forecast = pl.DataFrame(...)
    report = sluice.check(forecast, config="sluice.yaml", dataset="forecast", raise_on_fail=True)
    forecast.write_parquet("out/forecast.parquet")   # only reached if the checks passed

The frame stands in for the dataset's ``path:``: its checks, its parity and
reconciliation against files or other frames (pass a mapping of dataset name to frame).
"""

from __future__ import annotations

from . import _native

# Not `typing.TYPE_CHECKING`: importing typing is a noticeable part of the command's start-up.
TYPE_CHECKING = False

__version__: str = _native.__version__

# What each public name is imported from, on first use (PEP 562): the `sluice` command
# (a console script importing this package) then loads only the extension.
_WHERE = {
    "check": "_api",
    "check_output": "_api",
    "guard": "_api",
    "impact": "_api",
    "publish": "_api",
    "ArrowStreamExportable": "_api",
    "Data": "_api",
    "Report": "_report",
    "CheckResult": "_report",
    "DatasetResult": "_report",
    "GuardDecision": "_report",
    "Impact": "_report",
    "PublishOutcome": "_report",
    "SluiceError": "_errors",
    "ConfigError": "_errors",
    "NotFoundError": "_errors",
    "ConflictError": "_errors",
    "StoreError": "_errors",
    "DataError": "_errors",
    "SchemaMismatch": "_errors",
    "ChecksFailed": "_errors",
}

__all__ = ["__version__", *_WHERE]

if TYPE_CHECKING:
    from ._api import (
        ArrowStreamExportable as ArrowStreamExportable,
        Data as Data,
        check as check,
        check_output as check_output,
        guard as guard,
        impact as impact,
        publish as publish,
    )
    from ._errors import (
        ChecksFailed as ChecksFailed,
        ConfigError as ConfigError,
        ConflictError as ConflictError,
        DataError as DataError,
        NotFoundError as NotFoundError,
        SchemaMismatch as SchemaMismatch,
        SluiceError as SluiceError,
        StoreError as StoreError,
    )
    from ._report import (
        CheckResult as CheckResult,
        DatasetResult as DatasetResult,
        GuardDecision as GuardDecision,
        Impact as Impact,
        PublishOutcome as PublishOutcome,
        Report as Report,
    )


def __getattr__(name: str) -> object:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'sluice' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{where}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
