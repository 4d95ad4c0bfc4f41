"""Typed views of sluice's JSON results: the same documents ``sluice check --format json``,
``sluice guard --format json`` and ``sluice impact --format json`` print."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    """One check's result."""

    dataset: str
    name: str
    kind: str
    status: str
    """``pass``, ``warn``, ``fail``, ``error`` or ``skipped``."""
    severity: str
    observed: Any
    threshold: str | None
    failing_rows: int | None
    rows_scanned: int | None
    samples: list[dict[str, Any]]
    """Failing rows (as many as the check's ``samples``), as column → value."""
    message: str
    column: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        """Whether it passed (``pass``)."""
        return self.status == "pass"


@dataclass(frozen=True)
class DatasetResult:
    """One dataset's part of a run."""

    name: str
    path: str
    format: str | None
    """``frame`` for a frame handed over in memory."""
    status: str
    rows_scanned: int | None
    error: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


class Report:
    """A run's report: ``status`` (``passed``, ``warned``, ``failed``, ``error``), the
    datasets and checks, and the JSON the CLI prints for the same run."""

    __slots__ = ("_doc",)

    def __init__(self, doc: dict[str, Any]) -> None:
        self._doc = doc

    @classmethod
    def from_json(cls, text: str) -> "Report":
        """The report of a ``sluice check --format json`` document."""
        return cls(json.loads(text))

    @property
    def status(self) -> str:
        """``passed``, ``warned``, ``failed`` or ``error``."""
        return str(self._doc["status"])

    @property
    def ok(self) -> bool:
        """Whether the data may go on: ``passed`` or ``warned``."""
        return self.status in ("passed", "warned")

    @property
    def run_id(self) -> str:
        """The run's id (a UUID v7)."""
        return str(self._doc["run_id"])

    @property
    def summary(self) -> dict[str, int]:
        """Counts of checks by status."""
        return dict(self._doc["summary"])

    @property
    def datasets(self) -> list[DatasetResult]:
        """The datasets checked."""
        return [
            DatasetResult(
                name=d["name"],
                path=d["path"],
                format=d.get("format"),
                status=d["status"],
                rows_scanned=d.get("rows_scanned"),
                error=d.get("error"),
                raw=d,
            )
            for d in self._doc["datasets"]
        ]

    @property
    def checks(self) -> list[CheckResult]:
        """Every check's result, in config order."""
        return [
            CheckResult(
                dataset=c["dataset"],
                name=c["name"],
                kind=c["kind"],
                status=c["status"],
                severity=c["severity"],
                observed=c.get("observed"),
                threshold=c.get("threshold"),
                failing_rows=c.get("failing_rows"),
                rows_scanned=c.get("rows_scanned"),
                samples=list(c.get("samples", [])),
                message=c.get("message", ""),
                column=c.get("column"),
                raw=c,
            )
            for c in self._doc["checks"]
        ]

    @property
    def retries(self) -> list[dict[str, Any]]:
        """Tasks a Ballista cluster ran again after losing an executor (``job``, ``stage``,
        ``tasks``, ``reason``); empty in-process and when nothing was re-run."""
        return copy.deepcopy(self._doc.get("retries", []))

    def check(self, name: str, dataset: str | None = None) -> CheckResult:
        """The result of the check called ``name`` (in ``dataset``)."""
        for c in self.checks:
            if c.name == name and (dataset is None or c.dataset == dataset):
                return c
        raise KeyError(name)

    @property
    def failed(self) -> list[CheckResult]:
        """The checks that failed or errored."""
        return [c for c in self.checks if c.status in ("fail", "error")]

    def to_dict(self) -> dict[str, Any]:
        """The report as plain Python values (the CLI's JSON document)."""
        return copy.deepcopy(self._doc)

    def to_json(self, indent: int | None = None) -> str:
        """The report as JSON: the document ``sluice check --format json`` prints."""
        return json.dumps(self._doc, indent=indent)

    def __repr__(self) -> str:
        s = self.summary
        counts = ", ".join(f"{v} {k}" for k, v in s.items() if v)
        return f"<sluice.Report {self.status}: {counts}>"


class _Doc:
    """A JSON result with attribute access to its fields."""

    __slots__ = ("_doc",)

    def __init__(self, doc: dict[str, Any]) -> None:
        self._doc = doc

    def __getattr__(self, name: str) -> Any:
        try:
            return self._doc[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_dict(self) -> dict[str, Any]:
        """The result as plain Python values (the CLI's JSON document)."""
        return copy.deepcopy(self._doc)

    def to_json(self, indent: int | None = None) -> str:
        """The result as the CLI's JSON."""
        return json.dumps(self._doc, indent=indent)


class GuardDecision(_Doc):
    """``sluice guard``'s answer: ``may_publish`` and the open breakers upstream
    (``blocked_by``)."""

    @property
    def may_publish(self) -> bool:
        """Whether the dataset may publish."""
        return bool(self._doc["may_publish"])

    def __bool__(self) -> bool:
        return self.may_publish

    def __repr__(self) -> str:
        return f"<sluice.GuardDecision may_publish={self.may_publish}>"


class Impact(_Doc):
    """``sluice impact``'s answer: the nodes downstream (or upstream) of one, with their
    distance, owners to notify and paths."""

    def __repr__(self) -> str:
        return f"<sluice.Impact of {self._doc.get('root', {}).get('name', '?')}>"


class PublishOutcome(_Doc):
    """What ``publish`` did: ``status`` is ``published`` (``version``, ``path``),
    ``quarantined`` (``quarantine``), or ``blocked`` (``blocked_by``); ``exit_code`` the
    CLI's; ``report`` the audit run's :class:`Report` (none when blocked)."""

    def __init__(self, doc: dict[str, Any], report: Report | None) -> None:
        super().__init__(doc)
        object.__setattr__(self, "_report", report)

    __slots__ = ("_report",)

    @property
    def report(self) -> Report | None:
        """The audit run's report (none when blocked)."""
        return self._report  # type: ignore[no-any-return]

    @property
    def published(self) -> bool:
        """Whether the data was published."""
        return bool(self._doc["status"] == "published")

    def __repr__(self) -> str:
        return f"<sluice.PublishOutcome {self._doc['status']}>"
