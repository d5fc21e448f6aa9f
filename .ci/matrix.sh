#!/usr/bin/env bash
# `make matrix`: the project's pytest suite on every Python 3.7-3.13, each in
# its own venv (.venv-3.X), then a smoke subset of Django 1.11's own test
# suite on 3.11 and 3.13 (.venv-3.X-django, which holds the project and the
# Django suite's test-only extras). Prints one summary line per run and exits
# non-zero if any run fails. Logs: .cache/matrix/.
#
# Venvs are built once and rebuilt only when setup.py, the compat layer or this
# script changes (stamp files); the pytest runs go MATRIX_JOBS at a time.
#
# Environment: MATRIX_PYTHONS, SMOKE_PYTHONS, PG_PYTHONS (space-separated
# versions; PG_PYTHONS is empty for `make matrix`, `make pg-suite` sets it and
# empties the other two), MATRIX_JOBS (default 2), SMOKE_LABELS, PG_LABELS,
# RUN_TIMEOUT (seconds per run, default 1200: a hung run fails instead of
# eating CI's budget).
#
# The PostgreSQL suite (.ci/django_pg_suite.py) runs Django 1.11's own tests
# against a throwaway PostgreSQL in .venv-X-django (which holds
# async_app[postgres], i.e. the newest psycopg2-binary 2.9.x that X has).
#
# CLUSTER_PYTHONS: versions whose run includes the "cluster" tests (default 3.7).
# PG_PYTEST_PYTHONS: versions whose venv also runs tests/django5 and
# tests/test_db.py on PostgreSQL (default "3.7 3.13"; `make pg-suite` runs 3.11's).
set -u
cd "$(dirname "$0")/.."

PYTHONS=${MATRIX_PYTHONS-"3.7 3.8 3.9 3.10 3.11 3.12 3.13"}
SMOKE_PYTHONS=${SMOKE_PYTHONS-"3.11 3.13"}
PG_PYTHONS=${PG_PYTHONS-""}
JOBS=${MATRIX_JOBS:-2}
PG_PYTEST_PYTHONS=${PG_PYTEST_PYTHONS-"3.7 3.13"}
RUN_TIMEOUT=${RUN_TIMEOUT:-1200}
# The issue's labels, plus the ones that exercise each shim: validators and
# urlpatterns_reverse (regex flags, CVE-2021-32052), mail (SMTP, surrogates),
# auth_tests (crypt), utils_tests (six.moves), file_uploads and requests (cgi),
# migrations and pagination (collections ABCs), test_runner (parallel runner),
# admin_scripts (django-admin subprocesses that never import async_app).
SMOKE_LABELS=${SMOKE_LABELS:-"basic queries template_tests forms_tests view_tests httpwrappers i18n \
validators urlpatterns_reverse mail auth_tests utils_tests file_uploads requests handlers \
migrations model_fields pagination test_runner admin_scripts"}
PG_LABELS=${PG_LABELS:-"backends postgres_tests timezones transactions queries model_fields basic \
aggregation expressions select_for_update migrations inspectdb introspection"}
DJANGO_SRC=.cache/django/Django-1.11.29
LOGDIR=.cache/matrix
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.result "$LOGDIR"/*.failures

now() { date +%s; }

# What a venv's dependencies and its copy of the project depend on.
DEPS_INPUTS="setup.py .ci/matrix.sh"
PROJECT_INPUTS="$DEPS_INPUTS async_app/compat.py async_app/async_app_compat.pth"

stale() {  # stale STAMP FILE...: true if STAMP is missing or older than a FILE
    local stamp=$1 f
    shift
    [ -e "$stamp" ] || return 0
    for f in "$@"; do
        [ "$f" -nt "$stamp" ] && return 0
    done
    return 1
}

# ensure_venv VERSION DIR REQUIREMENT...: create DIR from pyenv's VERSION and
# install the requirements (the project among them), unless its stamps are
# fresh; if only the compat layer changed, reinstall just the project.
# Sequential on purpose: pip builds the project in the shared ./build directory.
ensure_venv() {
    local version=$1 dir=$2 python
    shift 2
    # shellcheck disable=SC2086
    stale "$dir/.installed" $PROJECT_INPUTS || return 0
    python="$(pyenv prefix "$version" 2>/dev/null)/bin/python"
    if [ ! -x "$python" ]; then  # pyenv not on PATH: its newest $version.* build
        python=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version".*/bin/python 2>/dev/null \
                 | sort -V | tail -n 1)
    fi
    if [ ! -x "$python" ]; then
        echo "no pyenv interpreter for Python $version" >&2
        return 1
    fi
    echo "setting up $dir ..."
    if [ ! -x "$dir/bin/python" ]; then
        "$python" -m venv "$dir" || return 1
        "$dir/bin/python" -m pip install -q --upgrade pip || return 1
    fi
    # shellcheck disable=SC2086
    if stale "$dir/.deps" $DEPS_INPUTS; then
        "$dir/bin/python" -m pip install -q "$@" || return 1
        touch "$dir/.deps"
    else
        "$dir/bin/python" -m pip install -q --no-deps --force-reinstall . || return 1
    fi
    touch "$dir/.installed"
}

# run_pytest VERSION [pg]: the project's suite in .venv-VERSION, or with
# "pg" its PostgreSQL run (tests/django5 and tests/test_db.py on a throwaway
# server of their own, ASYNC_APP_TEST_POSTGRES=1); writes a result line.
run_pytest() {
    local v=$1 label=$1 start rc counts
    start=$(now)
    # A HOME of its own per run, so parallel runs share no ~/.gunicorn and
    # the like.
    local home
    home=$(mktemp -d)
    # The multi-process tests (marker "cluster": several gunicorns against
    # real PostgreSQL/Redis, ~1 min) run here on CLUSTER_PYTHONS only (`make
    # test` runs them on the dev venv's 3.11).
    local select=() pg=""
    if [ "${2-}" = pg ]; then
        label=$v-pg
        pg=1
        select=(tests/django5 tests/test_db.py)
    else
        case " ${CLUSTER_PYTHONS-3.7} " in *" $v "*) ;; *) select=(-m "not cluster") ;; esac
    fi
    rm -f "$LOGDIR/pytest-$label.xml"
    HOME=$home ASYNC_APP_TEST_POSTGRES=$pg timeout "$RUN_TIMEOUT" ".venv-$v/bin/python" -m pytest \
        -q -p no:cacheprovider ${select[@]+"${select[@]}"} \
        --junitxml="$LOGDIR/pytest-$label.xml" >"$LOGDIR/pytest-$label.log" 2>&1
    rc=$?
    rm -rf "$home"
    counts=$(".venv-$v/bin/python" - "$LOGDIR/pytest-$label.xml" "$LOGDIR/pytest-$label.failures" <<'EOF'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 passed, 1 failed (no junit report)")
    sys.exit()
suites = [root] if root.tag == "testsuite" else list(root)
n = lambda key: sum(int(s.get(key, 0)) for s in suites)
failed = n("failures") + n("errors")
skipped = n("skipped")
print("%d passed, %d failed, %d skipped" % (n("tests") - failed - skipped, failed, skipped))
# The failed tests' ids, for the summary (CI keeps only the output's tail).
with open(sys.argv[2], "w") as out:
    for case in root.iter("testcase"):
        for bad in case.findall("failure") + case.findall("error"):
            first = (bad.get("message") or "").strip().splitlines()[:1]
            out.write("    %s::%s  %s\n" % (case.get("classname"), case.get("name"),
                                          (first[0] if first else "")[:160]))
EOF
)
    echo "$rc|$label: $counts ($(( $(now) - start ))s)" >"$LOGDIR/pytest-$label.result"
}

# run_smoke VERSION: Django's smoke subset in .venv-VERSION-django.
run_smoke() {
    local v=$1 start rc summary
    start=$(now)
    # shellcheck disable=SC2086
    timeout "$RUN_TIMEOUT" ".venv-$v-django/bin/python" -W ignore .ci/django_smoke.py "$DJANGO_SRC/tests" \
        --parallel 2 $SMOKE_LABELS >"$LOGDIR/django-$v.log" 2>&1
    rc=$?
    summary=$(grep -E "^(Ran [0-9]+ tests|OK|FAILED)" "$LOGDIR/django-$v.log" | tr '\n' ' ')
    grep -E "^(FAIL|ERROR): " "$LOGDIR/django-$v.log" | head -n 20 | sed 's/^/    /' \
        >"$LOGDIR/django-$v.failures"
    echo "$rc|django-$v: ${summary:-no result, see $LOGDIR/django-$v.log} ($(( $(now) - start ))s)" \
        >"$LOGDIR/django-$v.result"
}

# run_pg VERSION: Django's suite on PostgreSQL in .venv-VERSION-django.
run_pg() {
    local v=$1 start rc summary
    start=$(now)
    # shellcheck disable=SC2086
    timeout "$RUN_TIMEOUT" ".venv-$v-django/bin/python" .ci/django_pg_suite.py "$DJANGO_SRC/tests" \
        --parallel 2 $PG_LABELS >"$LOGDIR/django-pg-$v.log" 2>&1
    rc=$?
    summary=$(grep -E "^(Ran [0-9]+ tests|OK|FAILED)" "$LOGDIR/django-pg-$v.log" | tr '\n' ' ')
    grep -E "^(FAIL|ERROR): " "$LOGDIR/django-pg-$v.log" | head -n 20 | sed 's/^/    /' \
        >"$LOGDIR/django-pg-$v.failures"
    echo "$rc|django-pg-$v: ${summary:-no result, see $LOGDIR/django-pg-$v.log} ($(( $(now) - start ))s)" \
        >"$LOGDIR/django-pg-$v.result"
}

# What a .venv-X-django holds: the project with its PostgreSQL driver, and
# the Django suite's test-only extras. tblib: readable tracebacks from the
# parallel runner (tblib 2+ also pickles exceptions that Django 1.11's
# test_pickle_errors_detection expects to fail); standard-smtpd & co: the
# mail tests import smtpd/asyncore/asynchat, removed in 3.12; zombie-imp:
# utils_tests.test_module_loading imports imp, removed in 3.12 (test-only).
DJANGO_VENV_REQUIREMENTS=(".[postgres]" 'tblib<2'
    "standard-smtpd; python_version >= '3.12'"
    "standard-asyncore; python_version >= '3.12'"
    "standard-asynchat; python_version >= '3.12'"
    "zombie-imp; python_version >= '3.12'")

status=0
total_start=$(now)

# 1. venvs (sequential), then the pytest runs, JOBS at a time.
ready=""
for v in $PYTHONS; do
    s=$(now)
    if ensure_venv "$v" ".venv-$v" '.[test]' >"$LOGDIR/venv-$v.log" 2>&1; then
        ready="$ready $v"
        echo "venv $v ready ($(( $(now) - s ))s)"
    else
        echo "1|$v: venv setup failed, see $LOGDIR/venv-$v.log" >"$LOGDIR/pytest-$v.result"
    fi
done

# The runs: each ready Python's suite, then the PostgreSQL runs of
# PG_PYTEST_PYTHONS (3.11's is in `make pg-suite`).
runs=""
for v in $ready; do runs="$runs $v"; done
for v in $PG_PYTEST_PYTHONS; do
    case " $ready " in *" $v "*) runs="$runs $v:pg" ;; esac
done
running=0
for run in $runs; do
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
    # shellcheck disable=SC2086
    run_pytest ${run/:/ } &
    running=$((running + 1))
done
wait

# 2. Django's own smoke subset, and its PostgreSQL suite.
if [ -n "$SMOKE_PYTHONS$PG_PYTHONS" ]; then
    if [ ! -f "$DJANGO_SRC/tests/runtests.py" ]; then
        mkdir -p .cache/django
        python3 -m pip download -q --no-deps --no-binary :all: Django==1.11.29 -d .cache/django \
            && tar xzf .cache/django/Django-1.11.29.tar.gz -C .cache/django
    fi
    for v in $SMOKE_PYTHONS; do
        s=$(now)
        if ensure_venv "$v" ".venv-$v-django" "${DJANGO_VENV_REQUIREMENTS[@]}" \
                >"$LOGDIR/venv-$v-django.log" 2>&1; then
            echo "venv $v-django ready ($(( $(now) - s ))s)"
            run_smoke "$v"
        else
            echo "1|django-$v: venv setup failed, see $LOGDIR/venv-$v-django.log" \
                >"$LOGDIR/django-$v.result"
        fi
    done
    for v in $PG_PYTHONS; do
        s=$(now)
        if ensure_venv "$v" ".venv-$v-django" "${DJANGO_VENV_REQUIREMENTS[@]}" \
                >"$LOGDIR/venv-$v-django.log" 2>&1; then
            echo "venv $v-django ready ($(( $(now) - s ))s)"
            run_pg "$v"
        else
            echo "1|django-pg-$v: venv setup failed, see $LOGDIR/venv-$v-django.log" \
                >"$LOGDIR/django-pg-$v.result"
        fi
    done
fi

# 3. Summary.
echo
echo "== matrix ($(( $(now) - total_start ))s) =="
passed=0
failed=0
skipped=0
results=""
labels="$PYTHONS"
for v in $PG_PYTEST_PYTHONS; do
    case " $PYTHONS " in *" $v "*) labels="$labels $v-pg" ;; esac
done
for v in $labels; do results="$results $LOGDIR/pytest-$v.result"; done
for v in $SMOKE_PYTHONS; do results="$results $LOGDIR/django-$v.result"; done
for v in $PG_PYTHONS; do results="$results $LOGDIR/django-pg-$v.result"; done
for f in $results; do
    [ -e "$f" ] || continue
    line=$(cat "$f")
    rc=${line%%|*}
    text=${line#*|}
    if [ "$rc" != 0 ]; then
        status=1
        text="$text  FAILED (exit $rc)"
    fi
    echo "$text"
    failures=${f%.result}.failures
    [ "$rc" = 0 ] || [ ! -s "$failures" ] || cat "$failures"
done
# Totals of the pytest runs, as a closing 'N passed, N failed' line.
for v in $labels; do
    f="$LOGDIR/pytest-$v.result"
    [ -e "$f" ] || continue
    read -r p f_ s <<<"$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/;t;s/.*/0 1 0/' "$f")"
    passed=$((passed + p))
    failed=$((failed + f_))
    skipped=$((skipped + s))
done
[ "$status" = 0 ] || echo "matrix FAILED: logs in $LOGDIR/"
[ -z "$PYTHONS" ] || echo "matrix: $passed passed, $failed failed, $skipped skipped"
exit $status
