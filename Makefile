# citizencenter: `make run` starts everything on one machine, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL := postgresql+psycopg://citizencenter:citizencenter@127.0.0.1:5432/citizencenter_test

.PHONY: run test test-services test-pg test-sqlite lint fuzz bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: $(VENV)/.run-deps
	$(BIN)/citizencenter run

test-services:
	.ci/services

test: $(VENV)/.test-deps test-services lint test-pg test-sqlite

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .

test-pg: $(VENV)/.test-deps
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest

test-sqlite: $(VENV)/.test-deps
	TEST_DATABASE_URL=sqlite $(BIN)/pytest

# The suite's schemathesis run, longer: FUZZ_EXAMPLES per operation (FUZZ_SEED to vary it).
fuzz: $(VENV)/.test-deps test-services
	TEST_DATABASE_URL=$(PG_TEST_URL) FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} \
		$(BIN)/pytest tests/test_fuzz_api.py -p no:cacheprovider

bench: $(VENV)/.test-deps
	WITH_WRK=1 .ci/services
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance .pytest_cache
