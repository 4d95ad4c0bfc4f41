# Sourced by the scripts of tests/airflow/. `ensure_venv DIR [PIP ARGS...]`: a Python
# virtualenv at DIR with tests/airflow/requirements.txt (Apache Airflow 3, pinned) installed,
# and PIP ARGS besides (a wheel, say). A venv made earlier for the same requirements and
# arguments is reused: a stamp inside it holds their hash. Python: $PYTHON, else python3.

ensure_venv() {
    local dir=$1; shift
    local reqs
    reqs="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/requirements.txt"
    local want
    want=$( { cat "$reqs"; printf '%s\n' "$@"; } | sha256sum | cut -d' ' -f1)
    if [ -x "$dir/bin/airflow" ] && [ "$(cat "$dir/.sluice-stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    local t0; t0=$(date +%s)
    echo "airflow: creating the virtualenv $dir (Apache Airflow from requirements.txt${*:+, and $*})"
    rm -rf "$dir"
    "${PYTHON:-python3}" -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$reqs" "$@"
    echo "$want" > "$dir/.sluice-stamp"
    echo "airflow: virtualenv ready in $(( $(date +%s) - t0 ))s"
}
