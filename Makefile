# gen-topics developer commands. `make test` works on a fresh machine: it installs what is
# missing (scripts/bootstrap.sh), creates .venv, installs the project, and runs every test; the
# pytest fixtures start real Kafka and a real schema registry on first use and stop them after.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_INSTALLED := $(VENV)/.installed-demo
PYTEST_ARGS ?=

.DEFAULT_GOAL := test
.PHONY: test demo bootstrap venv lint bench services services-status services-stop

bootstrap:
	@bash scripts/bootstrap.sh

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "make: $(PYTHON) is older than 3.11; set PYTHON=python3.11 (or newer)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall when the dependencies change. Editable in setuptools' "compat" mode (a path in a
# .pth file, not an import hook), so that mypy and pyright find gen_topics from anywhere.
EDITABLE := --config-settings editable_mode=compat -e
$(INSTALLED): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install -q $(EDITABLE) '.[dev,bench]'
	@touch $@

# The demo needs only the code generator and the runtime: a much smaller install.
$(DEMO_INSTALLED): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install -q $(EDITABLE) '.[codegen,json]'
	@touch $@

venv: bootstrap $(INSTALLED)

test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

# The main job: compile schemas/ into generated/, then send and consume typed records on the
# embedded memory:// broker (or on Kafka when KAFKA_BOOTSTRAP_SERVERS is set).
demo: $(DEMO_INSTALLED)
	$(BIN)/gen-topics schemas/
	$(BIN)/python examples/demo.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --exclude "*.md" .
	$(BIN)/mypy
	$(BIN)/mypy examples/demo.py examples/billing_service.py

# Every benchmark in benchmarks/, BENCH_RUNS times, against one Kafka and registry started for
# them; each run's output goes to benchmarks/results/<script>-<n>.txt and to the terminal.
BENCH_RUNS ?= 1
bench: venv
	$(BIN)/python scripts/services.py run -- sh benchmarks/run_all.sh $(BENCH_RUNS)

# For development: start Kafka and the registry in the background and print their addresses
# (as `export` lines: eval "$$(make -s services | grep ^export)"); stop them with `make services-stop`.
services: bootstrap
	@$(PYTHON) scripts/services.py start

services-status:
	@$(PYTHON) scripts/services.py status

services-stop:
	@$(PYTHON) scripts/services.py stop
