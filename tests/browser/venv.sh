#!/usr/bin/env bash
# Makes the browser test's virtualenv (Selenium, pinned in requirements.txt) if it is
# missing or stale, at $SLUICE_BROWSER_VENV (default $HOME/.cache/sluice-browser-venv),
# and prints its python's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${SLUICE_BROWSER_VENV:-$HOME/.cache/sluice-browser-venv}"
want="$(grep -E '^selenium==' "$here/requirements.txt" | cut -d= -f3)"
have="$("$venv/bin/python" -c 'import selenium; print(selenium.__version__)' 2>/dev/null || true)"
if [ "$have" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
fi
echo "$venv/bin/python"
