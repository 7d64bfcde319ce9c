# Tunnus: `make run` serves the embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000
WHOIS_PORT ?= 4343
INSTANCE_DIR ?= instance
export INSTANCE_DIR PORT WHOIS_PORT
APT_PACKAGES := systemd nodejs npm redis-server knot knot-dnsutils knot-dnssecutils dnsutils chromium chromium-driver php-cli php-curl php-mbstring whois poppler-utils libnet-epp-perl

.PHONY: run test test-tools venv i18n system-deps lint extract-messages clean

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

i18n: venv
	@$(PY) i18n/tool.py compile

run: venv i18n
	$(VENV)/bin/flask --app wsgi db upgrade heads
	$(VENV)/bin/flask --app wsgi demo load
	$(VENV)/bin/flask --app wsgi serve --port $(PORT)

# Servers the suite drives (PostgreSQL is on the machine; the rest comes from apt).
# A Node.js that already brings its own npm (e.g. NodeSource's) conflicts with Debian's npm
# package, so nodejs and npm are only asked of apt when npm is missing.
system-deps:
	@missing=""; for cmd in systemd-analyze npm redis-server knotd kzonecheck dig chromium php whois pdftotext; do \
	  command -v $$cmd >/dev/null || missing=1; done; \
	perl -MNet::EPP::Client -e 1 2>/dev/null || missing=1; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    pkgs="$(APT_PACKAGES)"; \
	    if command -v npm >/dev/null; then pkgs="$$(echo " $$pkgs " | sed 's/ nodejs / /; s/ npm / /')"; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs >/dev/null; \
	  else echo "missing system packages; as root: apt-get install $(APT_PACKAGES)"; exit 1; fi; \
	fi

# Browser-test tools from npm (axe-core), pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

test-tools: node_modules/.installed

test: venv i18n system-deps test-tools
	$(VENV)/bin/pytest -q
	TUNNUS_TEST_DB=sqlite $(VENV)/bin/pytest -q -m smoke

lint: venv
	$(VENV)/bin/ruff check .

# make extract-messages AREA=core  (then translate the new entries in fi/ and sv/)
extract-messages: venv
	$(PY) i18n/tool.py extract $(AREA)

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules
