# The two commands of the README: `make serve` and `make test`. Both set up what they need and are
# idempotent: the virtualenv is rebuilt only when pyproject.toml changes, system packages are
# installed with apt-get only when their command is missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

# command:debian-package pairs the checks need (Java runs the HermiT reasoner).
SYSTEM_DEPS := java:default-jre-headless

.PHONY: serve test install system-deps lint typecheck pytest clean

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
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy ioir_kg

pytest: install
	$(BIN)/pytest --doctest-modules ioir_kg tests

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
