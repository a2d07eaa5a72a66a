#!/usr/bin/env bash
# Run the whole test suite:  bash scripts/test.sh [pytest arguments]
#
# 1. pip requirements (requirements.txt + requirements-test.txt, both locked),
# 2. Debian packages when missing (postgresql, chromium, fonts-noto-cjk;
# installed when CI=true or when root), 3. `ruff check .` (a finding fails the
# run), 4. a throwaway PostgreSQL exported as TEST_PG_URL (unless TEST_PG_URL is
# already set), 5. pytest "$@" on TEST_WORKERS pytest-xdist workers (default
# `auto`, one per CPU; 0 = serial; not added when "$@" has -n/--numprocesses or
# -p no:xdist) with --dist loadfile, slowest files first (unless "$@" has --dist). Exits with pytest's
# exit code (5 = no test ran), 1 on ruff findings.
# Under CI=true a missing PostgreSQL or Chromium is an error; locally the tests
# that need them are skipped with the reason shown.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

IN_CI=0
case "${CI:-}" in true | TRUE | True | 1 | yes) IN_CI=1 ;; esac
IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
export PYTHON

say() { printf '[test.sh] %s\n' "$*"; }
die() { printf '[test.sh] ERROR: %s\n' "$*" >&2; exit 2; }

# ---- 1. Python packages ---------------------------------------------------
say "pip install -r requirements.txt -r requirements-test.txt ($("$PYTHON" --version 2>&1))"
"$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    -r requirements.txt -r requirements-test.txt \
    || die "pip install -r requirements.txt -r requirements-test.txt failed"

# ---- 2. Debian packages ---------------------------------------------------
have_pkg() { dpkg -s "$1" >/dev/null 2>&1; }
missing=()
have_pg=0
for d in /usr/lib/postgresql/*/bin/initdb; do [ -x "$d" ] && have_pg=1; done
[ $have_pg = 1 ] || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
have_pkg fonts-noto-cjk || missing+=(fonts-noto-cjk)
# the slide render test (tests/test_slides.py): LibreOffice headless .pptx -> PDF, pdftoppm PDF -> PNG
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-impress-nogui)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
    if [ $IN_CI = 1 ] || [ $IS_ROOT = 1 ]; then
        say "apt-get install ${missing[*]}"
        SUDO=()
        [ $IS_ROOT = 1 ] || SUDO=(sudo -n)
        export DEBIAN_FRONTEND=noninteractive
        apt_log=$(mktemp /tmp/registry-apt.XXXXXX)
        if ! { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq "${missing[@]}"; } \
                >"$apt_log" 2>&1; then
            tail -n 30 "$apt_log" >&2
            die "apt-get install ${missing[*]} failed"
        fi
        rm -f "$apt_log"
    else
        say "missing Debian packages: ${missing[*]} (not root: the tests needing them will be skipped)"
    fi
fi

# ---- 3. ruff ----------------------------------------------------------------
say "ruff check . ($("$PYTHON" -m ruff --version))"
if ! "$PYTHON" -m ruff check --no-cache .; then
    printf '[test.sh] ERROR: %s\n' "ruff check . found problems (see above); fix them before the tests run" >&2
    exit 1
fi

# ---- 4. PostgreSQL --------------------------------------------------------
# shellcheck source=scripts/start_pg.sh
source "$ROOT/scripts/start_pg.sh"
PG_SUMMARY=
if [ -n "${TEST_PG_URL:-}" ]; then
    PG_SUMMARY="PostgreSQL: using the given TEST_PG_URL"
elif pg_start; then
    export TEST_PG_THROWAWAY=1  # removed whole on exit: the tests need not drop their databases
    trap 'pg_stop' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    PG_SUMMARY="PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'): 127.0.0.1:$PG_PORT, data in $PG_DIR (removed on exit)"
else
    [ $IN_CI = 1 ] && die "could not start PostgreSQL (required under CI)"
    PG_SUMMARY="PostgreSQL: not available, PostgreSQL tests will be skipped"
fi

# ---- 5. pytest ------------------------------------------------------------
if [ -x /usr/bin/chromium ]; then
    CHROMIUM_SUMMARY="Chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
else
    [ $IN_CI = 1 ] && die "/usr/bin/chromium missing (required under CI)"
    CHROMIUM_SUMMARY="Chromium: missing, browser tests will be skipped"
fi
say "$PG_SUMMARY"
say "$CHROMIUM_SUMMARY"
[ -n "${TEST_PG_URL:-}" ] && say "TEST_PG_URL=$TEST_PG_URL"
# Parallel unless the caller chose: tests/conftest.py gives every worker its own databases.
# --dist loadfile keeps a module's tests on one worker (its module fixtures are built once).
xdist=(-n "${TEST_WORKERS:-auto}")
dist=(--dist loadfile --no-loadscope-reorder)  # the files in tests/conftest.py's order: slowest first
[ "${TEST_WORKERS:-auto}" = 0 ] && xdist=() && dist=()
prev=
for arg in "$@"; do
    case "$arg" in
        -n | -n* | --numprocesses | --numprocesses=*) xdist=() ;;
        --dist | --dist=* | -d) dist=() ;;
    esac
    if { [ "$prev" = -p ] && [ "$arg" = no:xdist ]; } || [ "$arg" = -pno:xdist ]; then xdist=() && dist=(); fi
    prev=$arg
done
xdist+=("${dist[@]}")
say "pytest ${xdist[*]} $*"

start=$(date +%s)
"$PYTHON" -m pytest "${xdist[@]}" "$@"
rc=$?
say "pytest exit code $rc after $(($(date +%s) - start)) s"
exit $rc
