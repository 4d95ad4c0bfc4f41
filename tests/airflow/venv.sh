# Sourced by the scripts of tests/airflow/.
#
# `ensure_tools`: a virtualenv with tools.txt (maturin, uv) at $SLUICE_PY_TOOLS (default
# ~/.cache/sluice-py-tools), made once with pip; sets $tools to its bin/ folder.
#
# `dev_wheel OUTDIR`: the wheel of pyproject.toml from the dev profile; prints its path.
#
# `ensure_venv DIR [PACKAGES...]`: a virtualenv at DIR with requirements.txt (Apache Airflow
# 3, pinned) and PACKAGES (a wheel, say) installed by uv. A venv made earlier for the same
# requirements and packages is reused (a stamp inside it holds their hash); `fresh_venv`
# always makes a new one. Python: $PYTHON, else python3.

here_venv=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

stamp_of() { # FILE [WORDS...]: the hash of a file's content and the words
    { cat "$1"; printf '%s\n' "${@:2}"; } | sha256sum | cut -d' ' -f1
}

ensure_tools() {
    local dir=${SLUICE_PY_TOOLS:-$HOME/.cache/sluice-py-tools}
    local want; want=$(stamp_of "$here_venv/tools.txt")
    if ! [ -x "$dir/bin/uv" ] || [ "$(cat "$dir/.sluice-stamp" 2>/dev/null)" != "$want" ]; then
        echo "airflow: installing the tools (tools.txt) into $dir"
        rm -rf "$dir"
        "${PYTHON:-python3}" -m venv "$dir"
        "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$here_venv/tools.txt"
        echo "$want" > "$dir/.sluice-stamp"
    fi
    tools=$dir/bin
}

dev_wheel() { # OUTDIR: builds the wheel of pyproject.toml from cargo's dev profile (and
    # the shared target dir) into OUTDIR and prints its path. Level 1: a 250 MB debug
    # library compresses in a fraction of the default level's time.
    local out=$1 repo; repo=$(cd "$here_venv/../.." && pwd)
    ensure_tools
    mkdir -p "$out"
    (cd "$repo" && "$tools/maturin" build --profile dev --locked --compression-level 1 \
        --interpreter "${PYTHON:-python3}" --out "$out" >"$out/maturin.log" 2>&1) || {
        cat "$out/maturin.log" >&2; echo "maturin build failed" >&2; return 1; }
    ls "$out"/sluice-*.whl
}

fresh_venv() { # DIR [PACKAGES...]
    local dir=$1; shift
    local t0; t0=$(date +%s)
    ensure_tools
    rm -rf "$dir"
    "$tools/uv" venv --quiet --python "${PYTHON:-python3}" "$dir"
    VIRTUAL_ENV=$dir "$tools/uv" pip install --quiet -r "$here_venv/requirements.txt" "$@"
    echo "airflow: virtualenv $dir (requirements.txt${*:+ and $*}) made in $(( $(date +%s) - t0 ))s"
}

ensure_venv() { # DIR [PACKAGES...]
    local dir=$1
    local want; want=$(stamp_of "$here_venv/requirements.txt" "${@:2}")
    if [ -x "$dir/bin/airflow" ] && [ "$(cat "$dir/.sluice-stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    fresh_venv "$@"
    echo "$want" > "$dir/.sluice-stamp"
}
