"""The exceptions sluice raises. Every one is a :class:`SluiceError` and carries the exit
code the ``sluice`` command gives the same problem (``.exit_code``); each also derives from
the builtin a Python program would catch (``ValueError``, ``LookupError``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._report import Report


class SluiceError(Exception):
    """Anything sluice could not do. ``exit_code`` is the CLI's for the same problem:
    2 the caller's mistake, 4 the environment's."""

    exit_code: int

    def __init__(self, message: str, exit_code: int = 4) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ConfigError(SluiceError, ValueError):
    """The config is invalid (every diagnostic, with ``file:line:col``), or the call is
    (a frame without ``dataset=`` when the config defines several). Nothing ran."""


class NotFoundError(SluiceError, LookupError):
    """A dataset, stage or lineage node the config does not define (with a did-you-mean)."""


class ConflictError(SluiceError):
    """Someone else is doing the same thing (a publish holds the dataset's lock), or the
    staging location already holds data."""


class StoreError(SluiceError):
    """The environment failed: the state store cannot be reached, a file cannot be read or
    written, nothing was staged."""


class DataError(SluiceError):
    """A frame could not be read: its Arrow stream failed part-way."""


class SchemaMismatch(SluiceError, ValueError):
    """A frame lacks columns its dataset's checks name. Raised even with
    ``raise_on_fail=False``: a frame of the wrong shape is a bug in the calling program,
    not a data problem. ``.columns`` lists ``(dataset, column)``; ``.report`` is the run."""

    report: "Report"
    columns: list[tuple[str, str]]

    def __init__(self, message: str, report: "Report", columns: list[tuple[str, str]]) -> None:
        super().__init__(message, 2)
        self.report = report
        self.columns = columns


class ChecksFailed(SluiceError):
    """``raise_on_fail=True`` and the run failed (a check at severity error failed) or
    errored. ``.report`` is the run's :class:`~sluice.Report`."""

    report: "Report"

    def __init__(self, report: "Report") -> None:
        failed = [f"{c.dataset}.{c.name}" for c in report.checks if c.status in ("fail", "error")]
        shown = ", ".join(failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
        super().__init__(f"sluice checks {report.status}: {shown}", 4 if report.status == "error" else 1)
        self.report = report
