# Rounds: `make run` serves the app with demo data, `make test` runs every check CI runs.
# GNU make; needs Python 3.11 on PATH (python3.11, or python3 if that is 3.11).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ADDR ?= 127.0.0.1:8000
# pytest-xdist workers: the number of CPUs, at most 2.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ "$$n" -gt 2 ] && n=2; echo $$n)
# The two test tiers (README "Tests"): `make test` runs the fast one, `make test-slow` the rest.
FAST_TESTS ?= not slow and not processes
SLOW_TESTS ?= slow or processes
# Directories the translation commands must not walk into.
I18N_IGNORE := --ignore=.venv --ignore=var --ignore=node_modules --ignore=tests --ignore=bench

# The browser tests drive the system Chromium (/usr/bin/chromium); never fetch Playwright's own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: help venv install run test test-slow chromium ocr lint bench messages check-deploy clean distclean

help:
	@echo "make run           serve Rounds with demo data on http://$(ADDR)/ (Ctrl-C stops it)"
	@echo "make test          make lint, then the fast tests (what to run before a commit)"
	@echo "make test-slow     the slow tests: page sweep, stateful/property runs, multi-process fault injection"
	@echo "make lint          lint rules, format check, type check and the import contracts"
	@echo "make bench         run every benchmark in bench/ (one JSON line each)"
	@echo "make messages      extract and compile the German, Turkish and Japanese catalogues"
	@echo "make check-deploy  Django's deployment checks with production-like settings"
	@echo "make clean         remove caches and collected static files (distclean: also .venv and var/)"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Install only when a requirements file changed since the last install.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

venv install: $(STAMP)

run: export ROUNDS_DEBUG := 1
run: $(STAMP) ocr
	mkdir -p var
	$(PY) manage.py migrate --no-input
	@# The catalogues are committed compiled; gettext is only needed when a .mo is missing.
	@for po in locale/*/LC_MESSAGES/*.po; do \
		[ -e "$$po" ] || continue; \
		if [ ! -e "$${po%.po}.mo" ]; then \
			if command -v msgfmt >/dev/null; then $(PY) manage.py compilemessages $(I18N_IGNORE); \
			else echo "note: $${po%.po}.mo is missing and gettext is not installed; pages stay in English"; fi; \
			break; \
		fi; \
	done
	$(PY) manage.py seed_demo
	@echo
	@echo "Rounds: http://$(ADDR)/  (log in with a demo user above; Ctrl-C stops the server and the task cluster)"
	@echo "Passwords are printed when a user is first created; ROUNDS_DEMO_PASSWORD=... make run sets them all."
	@echo "governance and consent set up two-factor authentication (an authenticator app or a passkey) at their first login."
	PY=$(PY) ADDR=$(ADDR) scripts/run.sh

# pytest exits 5 when a tier selects no test (e.g. narrowed with PYTEST_ADDOPTS): not a failure.
define run_tier
	rc=0; $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup -rfEs -m "$(1)" || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "this tier (-m \"$(1)\") selected no test"; rc=0; fi; exit $$rc
endef

test: lint chromium ocr
	$(call run_tier,$(FAST_TESTS))

# The interface check seeds the demo in a transactional test, whose flush at its end takes the
# migrations' rows from the test database: it runs in a session of its own, after the rest.
test-slow: $(STAMP) chromium ocr
	$(call run_tier,($(SLOW_TESTS)) and not interface)
	$(call run_tier,($(SLOW_TESTS)) and interface)

# Installs the system Chromium the browser tests drive when it is missing and we may (root/sudo).
chromium:
	@scripts/ensure-chromium

# Installs Tesseract and its German, English, Turkish and Japanese data (text in uploaded images).
ocr:
	@scripts/ensure-tesseract

lint: $(STAMP)
	@echo "== ruff check: lint rules (pyproject.toml [tool.ruff])"
	$(BIN)/ruff check .
	@echo "== ruff format --check: formatting"
	$(BIN)/ruff format --check .
	@echo "== mypy: types (pyproject.toml [tool.mypy])"
	$(BIN)/mypy .
	@echo "== lint-imports: apps depend one way, no import cycles (pyproject.toml [tool.importlinter])"
	@# No cache: the check takes about a second, and leaves nothing behind in the work tree.
	$(BIN)/lint-imports --no-logo --no-cache

# bench/http.py loads pages with wrk: installed when missing and we may (never fatal).
bench: $(STAMP)
	@scripts/ensure-wrk
	@for f in bench/*.py; do \
		[ -e "$$f" ] || continue; \
		PYTHONPATH=$(CURDIR) $(PY) "$$f" || exit 1; \
	done

messages: export ROUNDS_DEBUG := 1
messages: $(STAMP)
	$(PY) manage.py makemessages -l de -l tr -l ja -e html,txt,py $(I18N_IGNORE) --no-obsolete
	$(PY) manage.py compilemessages $(I18N_IGNORE)

# Throw-away secrets (the secret key, an audit key), a real host name, no DEBUG: what production runs with.
check-deploy: $(STAMP)
	env -u ROUNDS_DEBUG -u ROUNDS_HTTPS -u ROUNDS_SSL_REDIRECT -u ROUNDS_HSTS_SECONDS \
		ROUNDS_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
		ROUNDS_AUDIT_KEY="$$($(PY) -c 'import base64, secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())')" \
		ROUNDS_ALLOWED_HOSTS=rounds.example.org \
		DJANGO_SETTINGS_MODULE=calendar_project.settings \
		$(PY) manage.py check --deploy --fail-level WARNING

clean:
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0 rm -rf
	rm -rf .mypy_cache .ruff_cache .pytest_cache .hypothesis var/static

# Also the virtualenv and everything under var/ (the development database and its media).
distclean: clean
	rm -rf $(VENV) var
