# Sourced by the scripts that run tests in a venv of their own (the real event-tracking switches
# the compat shim off, so those venvs never share the main .venv).
# ensure_venv VENV CHECK PIP-ARGUMENTS...: reuse VENV when the Python code CHECK runs there; else
# create it (if missing), pip install PIP-ARGUMENTS, and run CHECK again, failing loudly if the
# install did not happen.
ensure_venv() {
    local venv=$1 check=$2
    shift 2
    if "$venv/bin/python" -c "$check" 2>/dev/null; then
        return 0
    fi
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/pip" install -q "$@" 2>&1 | grep -v "^WARNING: Location" || true
    "$venv/bin/python" -c "$check"
}
