# One entry point for everything a developer or CI does with this project.
PYTHON ?= python3
VENV := .venv
TOOLS_VENV := .venv-tools
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS_VENV)/.installed
STAGE ?= dev
# The stages' region (samconfig.toml deploys every environment there).
REGION ?= us-east-1
export SAM_CLI_TELEMETRY = 0

.PHONY: run test lint format template-check unit integration e2e bench seed token openapi clean build build-check lock deploy

# The same versions as the layers' locks (layers/*/requirements.lock): both come from requirements/constraints.txt,
# and tests/unit/test_dependency_pins.py fails when they part.
$(STAMP): requirements/dev.txt requirements/constraints.txt shared/requirements.txt layers/adapters/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r shared/requirements.txt -r layers/adapters/requirements.txt -r requirements/dev.txt -c requirements/constraints.txt
	touch $@

$(TOOLS_STAMP): requirements/tools.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/python -m pip install --quiet -r requirements/tools.txt
	touch $@

## run: the whole application on this machine (API on http://127.0.0.1:3000)
run: $(STAMP)
	$(PY) -m local run

## test: lint, template checks, then unit, integration and end-to-end tests; the end-to-end tier includes
## the OpenAPI contract run (schemathesis with docs/openapi.json against the local stack, see `contract`)
test: lint template-check
	$(PY) -m pytest

## contract: only the schemathesis run of docs/openapi.json against a local stack it starts
contract: $(STAMP)
	$(PY) -m pytest tests/e2e/test_openapi_contract.py

## openapi: write the merged OpenAPI document to docs/openapi.json (a unit test fails when it is stale)
openapi: $(STAMP)
	$(PY) -m local.openapi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy  # what and how strictly: [tool.mypy] in pyproject.toml

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

template-check: $(TOOLS_STAMP)
	$(TOOLS_VENV)/bin/sam validate --lint --template template.yaml --region us-east-1
	$(TOOLS_VENV)/bin/cfn-lint template.yaml

unit: $(STAMP)
	$(PY) -m pytest tests/unit

integration: $(STAMP)
	$(PY) -m pytest tests/integration

e2e: $(STAMP)
	$(PY) -m pytest tests/e2e

## bench: every speed, size and scale target, one table printed and written to docs/benchmarks.md
bench: $(STAMP)
	$(PY) -m pytest benchmarks -s -p no:cacheprovider --benchmarks-doc docs/benchmarks.md

## seed: load the reference data into a deployed stage (your AWS credentials), or STAGE=local: the running local stack
seed: $(STAMP)
ifeq ($(STAGE),local)
	$(PY) -m local seed --local
else
	$(PY) -m local seed --stack-name trading-api-$(STAGE) --region $(REGION)
endif

## token: an ID token of a deployed stage's user: make token STAGE=dev EMAIL=me@example.com [CREATE=1]
token: $(STAMP)
	@$(PY) -m local token --stack-name trading-api-$(STAGE) --region $(REGION) --email "$(EMAIL)" $(if $(CREATE),--create,)

## build: sam build into .aws-sam/build (the layers: layers/*/Makefile, no Docker), then build-check
build: $(TOOLS_STAMP)
	$(TOOLS_VENV)/bin/sam build
	$(MAKE) build-check

## build-check: the built layers hold exactly their locks' versions (= requirements/constraints.txt), all compiled
build-check:
	$(PYTHON) layers/check_build.py .aws-sam/build

## lock: rewrite layers/*/requirements.lock (hashed wheels) from requirements/constraints.txt
lock: $(STAMP)
	$(PY) layers/lock.py

deploy: build
	$(TOOLS_VENV)/bin/sam deploy --config-env $(STAGE)

clean:
	rm -rf $(VENV) $(TOOLS_VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache
