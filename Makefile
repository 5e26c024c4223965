# Guanxi: `make run` sets everything up and serves a demo company; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export GUANXI_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test test-pg bench lint format messages install clean-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	@mkdir -p "$(GUANXI_DATA_DIR)"
	$(BIN)/guanxi migrate --noinput
	$(BIN)/guanxi demo --if-empty
	@echo ""
	@echo "Demo logins (password 'demo' for each; demo only): admin, manager, rep1, rep2, service, analyst, auditor"
	@echo "Open http://127.0.0.1:$(PORT)/"
	PORT=$(PORT) $(BIN)/guanxi serve --port $(PORT)

test: $(VENV)/.installed
	$(BIN)/python -m pytest

test-pg: $(VENV)/.installed
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python -m bench.run

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(VENV)/.installed
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

messages: $(VENV)/.installed
	cd src/guanxi && ../../$(BIN)/guanxi makemessages -l zh_Hans -l en --no-obsolete && ../../$(BIN)/guanxi compilemessages

clean-data:
	rm -rf "$(GUANXI_DATA_DIR)"
