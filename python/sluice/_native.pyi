# The native half of the module (crates/sluice-py). Checked with `python -m mypy.stubtest sluice._native`.
from typing import Any

__version__: str
__all__ = ["__version__", "check", "guard", "impact", "main", "publish"]

def check(
    config: str,
    data: Any = None,
    dataset: str | None = None,
    vars: list[tuple[str, str]] = ...,
    record: bool = True,
    now: str | None = None,
    memory_limit: int | None = None,
    partition: list[str] = ...,
) -> tuple[str, list[tuple[str, str]]]: ...
def guard(config: str, dataset: str, vars: list[tuple[str, str]] = ...) -> str: ...
def impact(
    config: str,
    node: str,
    vars: list[tuple[str, str]] = ...,
    upstream: bool = False,
    depth: int | None = None,
    column: str | None = None,
) -> str: ...
def publish(
    config: str,
    dataset: str,
    data: Any = None,
    vars: list[tuple[str, str]] = ...,
    by: str | None = None,
    partition: list[str] = ...,
) -> tuple[str, str | None]: ...
def main(argv: list[str]) -> int: ...
