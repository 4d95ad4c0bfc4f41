"""The public functions of :mod:`sluice` (imported from there)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
import functools
from typing import Any, Callable, Protocol, TypeVar, Union, runtime_checkable

from . import _native
from ._errors import ChecksFailed, SchemaMismatch
from ._report import GuardDecision, Impact, PublishOutcome, Report



@runtime_checkable
class ArrowStreamExportable(Protocol):
    """Anything that exports an Arrow stream (the Arrow PyCapsule interface): polars and
    pandas DataFrames, pyarrow Tables and RecordBatchReaders, DuckDB relations."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


Data = Union[ArrowStreamExportable, Mapping[str, ArrowStreamExportable]]
"""A frame, or a mapping of dataset name to frame."""

PathLike = Union[str, "os.PathLike[str]"]


def _vars(vars: Mapping[str, str] | None) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in (vars or {}).items()]


def _partition(partition: Mapping[str, str] | Sequence[str] | None) -> list[str]:
    if partition is None:
        return []
    if isinstance(partition, Mapping):
        return [f"{k}={v}" for k, v in partition.items()]
    return [str(p) for p in partition]


def _now(now: datetime | str | None) -> str | None:
    if now is None or isinstance(now, str):
        return now
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return now.isoformat()


def check(
    data: Data | None = None,
    config: PathLike = "sluice.yaml",
    dataset: str | None = None,
    vars: Mapping[str, str] | None = None,
    raise_on_fail: bool = False,
    *,
    record: bool = True,
    now: datetime | str | None = None,
    partition: Mapping[str, str] | Sequence[str] | None = None,
    memory_limit: int | None = None,
) -> Report:
    """Runs the checks of ``dataset`` on ``data`` and returns the :class:`Report`.

    ``data`` is a frame (anything with ``__arrow_c_stream__``: polars ≥ 1.3, pandas ≥ 2.2
    with pyarrow, pyarrow, DuckDB), which stands in for the dataset's ``path:``; or a
    mapping of dataset name to frame (checks every dataset in it unless ``dataset`` says
    which); or ``None`` to check the files, as ``sluice check`` does. Datasets compared
    with (parity, reconciliation, references) are read from their frame if given, else
    from their files. The data is not copied: the checks read the frame's own buffers.

    ``dataset`` may be left out when the config defines one dataset. ``vars`` are the
    config's ``${NAME}`` values (``--var``). ``record`` records the run in the state store
    and moves breakers, as ``sluice check`` does (``False``: ``--no-state``). ``now`` is the
    clock of ``freshness`` checks; ``partition`` (``{"ds": "2026-12-01"}``) the slice
    history compares within; ``memory_limit`` bounds the query engine, in bytes.

    Raises :class:`ChecksFailed` when ``raise_on_fail`` and the run failed or errored;
    :class:`SchemaMismatch` when a frame lacks columns the checks name (always);
    :class:`ConfigError`, :class:`NotFoundError`, :class:`StoreError` as the CLI would
    exit 2 or 4; ``TypeError`` when ``data`` is not Arrow data.
    """
    text, missing = _native.check(
        os.fspath(config),
        data,
        dataset,
        _vars(vars),
        record,
        _now(now),
        memory_limit,
        _partition(partition),
    )
    report = Report.from_json(text)
    if missing:
        cols = ", ".join(f"{d}.{c}" for d, c in missing)
        raise SchemaMismatch(
            f"the frame lacks columns its checks name: {cols}; "
            f"its columns are listed in each check's message (report.failed)",
            report,
            [(d, c) for d, c in missing],
        )
    if raise_on_fail and report.status in ("failed", "error"):
        raise ChecksFailed(report)
    return report


F = TypeVar("F", bound=ArrowStreamExportable)


def check_output(
    dataset: str,
    config: PathLike = "sluice.yaml",
    vars: Mapping[str, str] | None = None,
    *,
    record: bool = True,
) -> Callable[[Callable[..., F]], Callable[..., F]]:
    """A decorator (pandera's ``check_output``): the function's returned frame is checked as
    ``dataset`` and returned unchanged if the checks pass; :class:`ChecksFailed` otherwise::

        @sluice.check_output("forecast", config="sluice.yaml")
        def predict(history: pl.DataFrame) -> pl.DataFrame: ...
    """

    def decorate(fn: Callable[..., F]) -> Callable[..., F]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> F:
            frame = fn(*args, **kwargs)
            check(frame, config=config, dataset=dataset, vars=vars, raise_on_fail=True, record=record)
            return frame

        return wrapper

    return decorate


def guard(dataset: str, config: PathLike = "sluice.yaml", vars: Mapping[str, str] | None = None) -> GuardDecision:
    """May ``dataset`` publish? ``sluice guard``: false while a breaker on it or upstream of
    it is open. The decision is truthy when it may."""
    return GuardDecision(_json(_native.guard(os.fspath(config), dataset, _vars(vars))))


def impact(
    node: str,
    config: PathLike = "sluice.yaml",
    vars: Mapping[str, str] | None = None,
    *,
    upstream: bool = False,
    depth: int | None = None,
    column: str | None = None,
) -> Impact:
    """What breaks downstream of ``node`` (``upstream=True``: what it depends on), from the
    config's lineage (and the dbt and OpenLineage sources it names): ``sluice impact``."""
    return Impact(_json(_native.impact(os.fspath(config), node, _vars(vars), upstream, depth, column)))


def publish(
    dataset: str,
    config: PathLike = "sluice.yaml",
    vars: Mapping[str, str] | None = None,
    data: ArrowStreamExportable | None = None,
    *,
    by: str | None = None,
    partition: Mapping[str, str] | Sequence[str] | None = None,
) -> PublishOutcome:
    """Write–audit–publish ``dataset``: ``data`` (if given) is written to its ``staging:`` as
    Parquet, then the staged data is checked and either published to ``path:`` (a new
    version) or quarantined with its report, unless a breaker blocks it: ``sluice publish``.
    Look at ``.status`` (``published``, ``quarantined``, ``blocked``)."""
    summary, report = _native.publish(os.fspath(config), dataset, data, _vars(vars), by, _partition(partition))
    return PublishOutcome(_json(summary), Report.from_json(report) if report is not None else None)


def _json(text: str) -> dict[str, Any]:
    import json

    value = json.loads(text)
    assert isinstance(value, dict)
    return value
