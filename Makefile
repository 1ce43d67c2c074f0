# The README's two commands: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install bench fuzz schema clean vendor-graphiql vendor-graphql-ws

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/group-sessions serve --demo

# The client tests install what they need on first use: tests/clients/package-lock.json into
# .cache/clients (npm ci, again when the lockfile changes) and Debian's chromium (apt-get).
# The tests run in TEST_WORKERS processes (pytest-xdist), each on a database of its own;
# `make test TEST_WORKERS=0` runs them all in one.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

schema: $(STAMP)
	$(BIN)/group-sessions export-schema > schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench

# The long schemathesis run (FUZZ_SECONDS, default 600) with a fresh seed; `make test` runs a short one.
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.run --max-time $${FUZZ_SECONDS:-600}

clean:
	rm -rf $(VENV) .data .cache tests/clients/node_modules

# The GraphiQL page's files, fetched again unchanged from the npm registry (app/http/assets/graphiql/README.md).
GRAPHIQL_VERSION := 4.1.2
REACT_VERSION := 18.3.1
GRAPHIQL_ASSETS := app/http/assets/graphiql
VENDOR := .cache/vendor

vendor-graphiql:
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)
	cd $(VENDOR) && npm pack --silent graphiql@$(GRAPHIQL_VERSION) react@$(REACT_VERSION) react-dom@$(REACT_VERSION) >/dev/null
	for package in graphiql-$(GRAPHIQL_VERSION) react-$(REACT_VERSION) react-dom-$(REACT_VERSION); do \
		mkdir -p $(VENDOR)/$$package && tar xzf $(VENDOR)/$$package.tgz -C $(VENDOR)/$$package; done
	cp $(VENDOR)/react-$(REACT_VERSION)/package/umd/react.production.min.js $(GRAPHIQL_ASSETS)/
	cp $(VENDOR)/react-dom-$(REACT_VERSION)/package/umd/react-dom.production.min.js $(GRAPHIQL_ASSETS)/
	cp $(VENDOR)/graphiql-$(GRAPHIQL_VERSION)/package/graphiql.min.js $(VENDOR)/graphiql-$(GRAPHIQL_VERSION)/package/graphiql.min.css $(GRAPHIQL_ASSETS)/
	cp $(VENDOR)/react-$(REACT_VERSION)/package/LICENSE $(GRAPHIQL_ASSETS)/LICENSE.react
	cp $(VENDOR)/react-dom-$(REACT_VERSION)/package/LICENSE $(GRAPHIQL_ASSETS)/LICENSE.react-dom
	cp $(VENDOR)/graphiql-$(GRAPHIQL_VERSION)/package/LICENSE $(GRAPHIQL_ASSETS)/LICENSE.graphiql

# The room display's graphql-ws client (its ESM build), fetched again unchanged (app/http/assets/display/README.md).
GRAPHQL_WS_VERSION := 6.4.2
DISPLAY_ASSETS := app/http/assets/display

vendor-graphql-ws:
	rm -rf $(VENDOR)/graphql-ws && mkdir -p $(VENDOR)/graphql-ws
	cd $(VENDOR)/graphql-ws && npm pack --silent graphql-ws@$(GRAPHQL_WS_VERSION) >/dev/null && tar xzf graphql-ws-$(GRAPHQL_WS_VERSION).tgz
	rm -f $(DISPLAY_ASSETS)/common-*.js
	cp $(VENDOR)/graphql-ws/package/dist/client.js $(DISPLAY_ASSETS)/graphql-ws-client.js
	cp $(VENDOR)/graphql-ws/package/dist/common-*.js $(DISPLAY_ASSETS)/
	cp $(VENDOR)/graphql-ws/package/LICENSE.md $(DISPLAY_ASSETS)/LICENSE.graphql-ws.md
