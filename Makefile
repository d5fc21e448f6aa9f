# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PORT ?= 8000

.PHONY: run test venv chromium services bench

# (Re)install when the packaging or the startup hook changes; the tests and
# gunicorn import async_app from the checkout, the venv supplies dependencies
# and the async_app_compat.pth startup hook.
$(VENV)/.installed: setup.py async_app/compat.py async_app/async_app_compat.pth
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q '.[test]'
	touch $@

venv: $(VENV)/.installed

# The browser test drives Debian's Chromium: install it when missing (as root;
# otherwise the test itself says what to install).
chromium:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || { \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# PostgreSQL and Redis for the tests that start throwaway servers
# (tests/services.py): Debian's packages, installed when missing (as root).
services:
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v redis-server >/dev/null; } \
		|| [ "$$(id -u)" != 0 ] || { \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql redis-server; }

test: venv chromium services
	$(PY) -m pytest

run: venv
	$(PY) montage/manage.py migrate --noinput
	$(VENV)/bin/gunicorn -c gunicorn.conf.py

# Django 1.11's own tests with every test-client request through
# AsyncDjangoApplication: once via the sync fast path, once forcing the
# coroutine pipeline for every view, once with every middleware opaque (run on
# the greenlet bridge) as well.
DJANGO_SRC := .cache/django/Django-1.11.29
DJANGO_SUITE_LABELS := handlers middleware middleware_exceptions requests test_client \
	test_client_regress view_tests generic_views csrf_tests sessions_tests

$(DJANGO_SRC)/tests/runtests.py:
	mkdir -p .cache/django
	$(PY) -m pip download -q --no-deps --no-binary :all: Django==1.11.29 -d .cache/django
	tar xzf .cache/django/Django-1.11.29.tar.gz -C .cache/django
	touch $@

.PHONY: django-suite
django-suite: venv $(DJANGO_SRC)/tests/runtests.py
	$(PY) tools/django_suite.py $(DJANGO_SRC)/tests $(DJANGO_SUITE_LABELS) --parallel 2
	ASYNC_APP_SYNC_FAST_PATH=0 $(PY) tools/django_suite.py $(DJANGO_SRC)/tests $(DJANGO_SUITE_LABELS) --parallel 2
	ASYNC_APP_ALL_OPAQUE=1 $(PY) tools/django_suite.py $(DJANGO_SRC)/tests $(DJANGO_SUITE_LABELS) --parallel 2

# Benchmark (bench/run.py): async_app's worker against gunicorn's sync and
# gthread workers, wrk as the load generator (Debian's package).
bench: venv
	command -v wrk >/dev/null 2>&1 || { apt-get update && apt-get install -y wrk; }
	$(PY) -c "import uvloop" 2>/dev/null || $(PY) -m pip install -q uvloop
	$(PY) -m bench.run
	$(PY) -m bench.inprocess

# The pytest suite on every Python 3.7-3.13 (.venv-3.X each) and a smoke
# subset of Django 1.11's own suite on 3.11 and 3.13 under the compat layer.
# One summary line per run; see .ci/matrix.sh for the knobs.
.PHONY: matrix
matrix:
	bash .ci/matrix.sh

# Django 1.11's own suite against a throwaway PostgreSQL server (started and
# stopped by .ci/django_pg_suite.py), on the Pythons of PG_PYTHONS, each in
# its .venv-X-django with the newest psycopg2 2.9.x it has. Labels: PG_LABELS
# in .ci/matrix.sh.
PG_PYTHONS ?= 3.7 3.11 3.13
.PHONY: pg-suite
pg-suite:
	MATRIX_PYTHONS= SMOKE_PYTHONS= PG_PYTHONS="$(PG_PYTHONS)" bash .ci/matrix.sh
