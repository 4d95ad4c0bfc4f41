"""The ``sluice`` command installed with the wheel: the whole CLI, run in this process."""

from __future__ import annotations

import signal
import sys


def main() -> int:
    """Runs ``sluice`` with ``sys.argv`` and returns its exit code."""
    # Ctrl-C and a closed pipe act on the command as on the native binary: Python would
    # only set a flag (SIGINT) or raise (SIGPIPE) once the command returns.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    from . import _native

    sys.stdout.flush()
    return int(_native.main(["sluice", *sys.argv[1:]]))


if __name__ == "__main__":
    sys.exit(main())
