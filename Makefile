# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PORT ?= 8000

.PHONY: run test venv

# (Re)install when the packaging or the startup hook changes; the tests and
# gunicorn import async_app from the checkout, the venv supplies dependencies
# and the async_app_compat.pth startup hook.
$(VENV)/.installed: setup.py async_app/compat.py async_app/async_app_compat.pth
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q '.[test]'
	touch $@

venv: $(VENV)/.installed

test: venv
	$(PY) -m pytest

run: venv
	$(PY) montage/manage.py migrate --noinput
	$(VENV)/bin/gunicorn -c gunicorn.conf.py
