# The README's commands. Each target sets up what it needs, so a fresh clone runs any of them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# uv installs the pinned requirements many times faster than pip (it downloads in parallel and
# installs without compiling every module up front); it is itself pinned, and bootstrapped with
# the venv's own pip. It reads PyPI directly, not pip's configuration (UV_INDEX_URL sets a mirror).
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
UV_PIP := $(UV) pip install --quiet --python $(PY)
LOCK := -c requirements/constraints.txt --build-constraints requirements/constraints.txt
# Two steps, so that a first `make run` installs only what it needs (run.txt) and `make test`
# adds the tests' tools (dev.txt) on top.
RUN_INSTALLED := $(VENV)/.run-installed
INSTALLED := $(VENV)/.installed
BENCH_INSTALLED := $(VENV)/.bench-installed
MUTATION_INSTALLED := $(VENV)/.mutation-installed
# The console's browser libraries (htmx, dagre); the CDK CLI, a devDependency, only for deploy.
NODE_INSTALLED := node_modules/.installed
TEMPLATE := cdk.out/OrderShop.template.json
SOURCES := app.py cdk.json $(shell find shop templates requirements -type f -not -path '*/__pycache__/*' 2>/dev/null)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup synth run test lint seed deploy bench mutation clean

help:
	@echo "make run     start the whole shop locally on 127.0.0.1 (no AWS account, no Docker); console at /console"
	@echo "make test    run every test"
	@echo "make synth   synthesize the CDK app into cdk.out/"
	@echo "make deploy  deploy to your AWS account with the pinned CDK CLI"
	@echo "make lint    ruff"
	@echo "make bench   benchmarks of the local mode, AWS cost per order, set-up time from fresh clones (20 minutes or so; writes BENCHMARKS.md)"
	@echo "make mutation  mutation testing of the approval protocol (a few minutes; see TESTING.md)"

setup: $(INSTALLED)

# The venv without pip (seeding it costs seconds, up to half a minute on a busy machine): the
# system Python's own pip puts uv into it. A Python without pip, or with one older than 22.3
# (no --python), seeds the venv's own pip after all and installs uv with that.
$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=...)")'
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(PY) install --quiet uv==$(UV_VERSION) 2>/dev/null \
		|| { $(PY) -m ensurepip --default-pip >/dev/null && $(PY) -m pip install --quiet uv==$(UV_VERSION); }

# The project itself (editable, for the `shop` command) in the same resolution: it declares no
# dependencies of its own, and uv builds it while the downloads run.
$(RUN_INSTALLED): $(UV) requirements/run.txt requirements/lambda.txt requirements/constraints.txt pyproject.toml
	$(UV_PIP) -r requirements/run.txt -e . $(LOCK)
	@touch $@

$(INSTALLED): $(RUN_INSTALLED) requirements/dev.txt
	$(UV_PIP) -r requirements/dev.txt $(LOCK)
	@touch $@

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --omit=dev --no-audit --no-fund --loglevel=error
	@touch $@

synth: $(TEMPLATE)

# CDK_VALIDATION=false skips CDK's built-in CloudFormation validation here, a WebAssembly engine
# that takes a third of the synthesis (about 6 s on a busy 2-core machine) and can only warn
# unless asked to fail: `make test` checks the same template with cfn-lint and cdk-nag, and
# `cdk deploy` (make deploy) still runs it.
$(TEMPLATE): $(RUN_INSTALLED) $(SOURCES)
	CDK_VALIDATION=false $(PY) app.py

run: $(TEMPLATE) $(NODE_INSTALLED)
	$(PY) -m shop.local

test: $(INSTALLED) $(NODE_INSTALLED)
	$(PY) -m pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check shop tests bench app.py

seed: $(RUN_INSTALLED)
	$(PY) -m shop.seed $(or $(FILE),data/demo-catalog.json)

# Not part of `make test`: takes minutes and loads the machine (see BENCHMARKS.md).
$(BENCH_INSTALLED): $(INSTALLED) requirements/bench.txt
	$(UV_PIP) -r requirements/bench.txt $(LOCK)
	@touch $@

bench: $(TEMPLATE) $(BENCH_INSTALLED)
	$(PY) -m bench

# Not part of `make test` either: mutmut over the approval protocol, each file must score 90 %.
$(MUTATION_INSTALLED): $(INSTALLED) requirements/mutation.txt
	$(UV_PIP) -r requirements/mutation.txt $(LOCK)
	@touch $@

mutation: $(MUTATION_INSTALLED) $(NODE_INSTALLED)
	rm -rf mutants
	$(VENV)/bin/mutmut run --max-children 2 >/dev/null || true
	$(PY) -m tests.mutation_score

deploy: $(TEMPLATE)
	npm ci --no-audit --no-fund
	@touch $(NODE_INSTALLED)
	npx cdk deploy

clean:
	rm -rf cdk.out .pytest_cache .ruff_cache node_modules mutants
