# Guide Desk: `make demo` opens the app with demo data, `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint typecheck importcheck unit gui e2e bench dist clean screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m guide_app --demo

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m guide_app --demo --screenshot screenshots-out

lint: $(STAMP)
	$(BIN)/ruff check guide_app hq tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

importcheck: $(STAMP)
	$(BIN)/lint-imports

test: $(STAMP) lint typecheck importcheck
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m bench

dist: $(STAMP)
	$(BIN)/pyinstaller --noconfirm --clean build.spec

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
