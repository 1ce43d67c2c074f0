# The README's two commands: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install bench fuzz schema clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/group-sessions serve --demo

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

schema: $(STAMP)
	$(BIN)/group-sessions export-schema > schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench

# The long schemathesis run (FUZZ_SECONDS, default 600) with a fresh seed; `make test` runs a short one.
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.run --max-time $${FUZZ_SECONDS:-600}

clean:
	rm -rf $(VENV) .data
