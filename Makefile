# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PORT ?= 8000

.PHONY: run test venv chromium services bench soak soak-ci

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

# One linter and formatter configuration (ruff.toml): pyflakes, syntax errors,
# `class X:`, `super()`, and `ruff format` applied; `make test` runs it first.
.PHONY: lint
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: venv chromium services lint
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

# Django REST framework 3.11.2's own tests (tools/drf-3.11.2-tests.tar.gz: the
# tag's tests/, which the sdist lacks) with every test-client request through
# AsyncDjangoApplication: once as is, once with every APIView.dispatch taking
# the coroutine handlers' path (async_dispatch). Own venv: the suite needs
# pytest<8 and pytest-django 3.x, which must not reach the project's venv
# (coreapi imports pkg_resources: setuptools, absent from 3.12+ venvs).
DRF_SUITE_PYTHON ?= $(PYTHON)
DRF_SUITE_VENV ?= .cache/drf/venv
DRF_SRC := .cache/drf/django-rest-framework-3.11.2
DRF_SUITE_DEPS := 'pytest<8' 'pytest-django>=3.5,<4' 'coreapi==2.3.1' 'coreschema==0.0.4' uritemplate \
	pyyaml 'markdown==3.1.1' 'pygments==2.4.2' 'setuptools<81'

$(DRF_SUITE_VENV)/.installed: setup.py async_app/compat.py async_app/async_app_compat.pth
	test -x $(DRF_SUITE_VENV)/bin/python || $(DRF_SUITE_PYTHON) -m venv $(DRF_SUITE_VENV)
	$(DRF_SUITE_VENV)/bin/python -m pip install -q '.[drf]' $(DRF_SUITE_DEPS)
	touch $@

$(DRF_SRC)/tests/conftest.py: tools/drf-3.11.2-tests.tar.gz
	mkdir -p .cache/drf
	tar xzf $< -C .cache/drf
	touch $@

.PHONY: drf-suite
drf-suite: $(DRF_SUITE_VENV)/.installed $(DRF_SRC)/tests/conftest.py
	$(DRF_SUITE_VENV)/bin/python tools/drf_suite.py $(DRF_SRC) -q -W ignore
	$(DRF_SUITE_VENV)/bin/python tools/drf_suite.py $(DRF_SRC) --coroutine-dispatch -q -W ignore

# Benchmark (bench/run.py, docs/benchmarks.md): the floor measured in the
# same run (Django's stock handler in process + aiohttp's bare server), issue
# 15's rows as ratios to it, to each other and to gthread, and memory per open
# connection; wrk as the load generator (Debian's package). BENCH_ONLY,
# BENCH_DURATION, BENCH_WARMUP, BENCH_REPEATS; BENCH_DOCS=1 rewrites the
# page's generated section. Then the in-process rows (bench/inprocess.py).
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
# in .ci/matrix.sh. First, on the dev venv, Django 5.2's ported async tests
# (tests/django5) and tests/test_db.py on a throwaway PostgreSQL of their own
# (ASYNC_APP_TEST_POSTGRES=1, tests/conftest.py; docs/django5-api.md).
PG_PYTHONS ?= 3.7 3.11 3.13
.PHONY: pg-suite
pg-suite: venv services
	ASYNC_APP_TEST_POSTGRES=1 $(PY) -m pytest tests/django5 tests/test_db.py -q -p no:cacheprovider
	MATRIX_PYTHONS= SMOKE_PYTHONS= PG_PYTHONS="$(PG_PYTHONS)" bash .ci/matrix.sh

# The soak and fault suite (soak/, docs/soak.md): a real gunicorn with
# AiohttpWorker serving a Django 1.11 project on a throwaway PostgreSQL,
# mixed load, RSS and file descriptors, kill -9, SIGHUP, the database gone
# for 5 s; prints the figures, fails if a check does. `make soak` is the full
# run (SOAK_DURATION seconds of load, default 600); `make soak-ci` is CI's
# short one on the dev venv and on each interpreter of SOAK_ALSO.
SOAK_ALSO ?=
soak: venv services
	$(PY) -m soak

soak-ci: venv services
	$(PY) -m soak --short
	@for py in $(SOAK_ALSO); do echo "== soak --short on $$py"; $$py -m soak --short || exit 1; done
