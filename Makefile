# The two commands of the README: `make serve` and `make test`. Both set up what they need and are
# idempotent: the virtualenv is rebuilt only when pyproject.toml changes, system packages are
# installed with apt-get only when their command is missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

# command:debian-package pairs the checks need (Java runs the HermiT reasoner; virtuoso-t is the
# remote-backend test server, started by the tests on free ports with a temporary database; chromium
# runs the browser tests of the web interface through Playwright; wrk drives the benchmark's load, also
# in its seconds-long smoke test).
SYSTEM_DEPS := java:default-jre-headless virtuoso-t:virtuoso-opensource apache2:apache2 chromium:chromium wrk:wrk

# Debconf answers for non-interactive installs (one "package question type value" per item, ';'
# separating items): an empty dba password lets virtuoso-opensource-7 install without asking and
# leaves its system daemon disabled (the tests start their own instance).
DEBCONF_PRESEED := virtuoso-opensource-7 virtuoso-opensource-7/dba-password password ;\
                   virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password

.PHONY: serve test install system-deps lint typecheck pytest clean bench dist

serve: install
	$(BIN)/ioir-kg serve --host $(HOST) --port $(PORT)

test: install system-deps lint typecheck pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

system-deps:
	@missing=""; \
	for pair in $(SYSTEM_DEPS); do \
	  cmd=$${pair%%:*}; pkg=$${pair#*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  echo "$(DEBCONF_PRESEED)" | tr ';' '\n' | sed 's/^ *//; s/ *$$/ /' | $$SUDO debconf-set-selections; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy ioir_kg

pytest: install
	$(BIN)/pytest --doctest-modules ioir_kg tests

# Benchmarks against `oxigraph serve` and rdflib-endpoint, on demand (not part of `make test`; see
# bench/README.md): `make bench BENCH_SIZE=1m`, any `python -m bench.run` option in BENCH_ARGS.
BENCH_SIZE ?= 100k
BENCH_ARGS ?=
BENCH_STAMP := $(VENV)/.installed-bench

bench: install system-deps $(BENCH_STAMP)
	$(BIN)/python -m bench.run --size $(BENCH_SIZE) $(BENCH_ARGS)

$(BENCH_STAMP): pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $(BENCH_STAMP)

# sdist and wheel in dist/; the wheel carries ontology/, data/ and queries/ as package data.
dist: install
	$(BIN)/python -m build --no-isolation --outdir dist .

clean:
	rm -rf $(VENV) dist var .pytest_cache .mypy_cache .ruff_cache
