# The README's commands. Each target sets up what it needs, so a fresh clone runs any of them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# uv installs the pinned requirements many times faster than pip (it downloads in parallel and
# installs without compiling every module up front); it is itself pinned, and bootstrapped with
# pip (see $(UV) below). It reads PyPI directly, not pip's configuration (UV_INDEX_URL sets a mirror).
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
LAMBDA_RUNTIME := $(VENV)/lambda-runtime/.installed
# The console's browser libraries (htmx, dagre) and Graphviz as WebAssembly (make architecture);
# the CDK CLI, a devDependency, only for deploy. `make test` installs the devDependencies as well
# (NODE_TEST_INSTALLED): the tests' independent IAM evaluator, iam-simulate, is one.
NODE_INSTALLED := node_modules/.installed
NODE_TEST_INSTALLED := node_modules/.test-installed
TEMPLATE := cdk.out/OrderShop.template.json
SOURCES := app.py cdk.json $(shell find shop templates requirements -type f -not -path '*/__pycache__/*' 2>/dev/null)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Node.js for jsii (synthesis: jsii spawns `node` from PATH) and the CDK CLI. aws-cdk-lib supports
# Node 22 and 24: jsii calls older ones end-of-life (and newer ones untested) and prints a banner
# on every run. With any other node on the machine, this pinned LTS is installed from the npm
# registry into .node/ (the npm `node` package, which fetches the platform's binary package;
# about 20 s and 190 MB, once) and put first on PATH for every recipe below.
# shop/infra/node_runtime.py does the same for a plain `python app.py`, `npx cdk` or pytest.
NODE_LTS := 24.21.0
NODE_SUPPORTED_MAJORS := 22 24
PROJECT_NODE_BIN := $(CURDIR)/.node/node_modules/.bin
ifeq ($(filter $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null),$(NODE_SUPPORTED_MAJORS)),)
NODE_RUNTIME := .node/.installed-$(NODE_LTS)
export PATH := $(PROJECT_NODE_BIN):$(PATH)
endif

.PHONY: help setup synth architecture run test lint seed deploy destroy smoke smoke-local bench mutation clean

help:
	@echo "make run     start the whole shop locally on 127.0.0.1 (no AWS account, no Docker); console at /console"
	@echo "make test    run every test"
	@echo "make synth   synthesize the CDK app into cdk.out/"
	@echo "make architecture  redraw docs/architecture.svg from the synthesized template"
	@echo "make deploy  deploy to your AWS account: preflight checks, cdk deploy, next steps (YES=1: no questions)"
	@echo "make destroy delete the deployed stack and say what it keeps (YES=1: no question)"
	@echo "make smoke   deploy a throwaway stack, run the test plan against it, destroy it (about 10 min, under a cent)"
	@echo "make smoke-local  the same test plan against local mode (no AWS account; under a minute)"
	@echo "make lint    ruff and mypy (make test runs it first)"
	@echo "make bench   benchmarks of the local mode, AWS cost per order, set-up time from fresh clones (20 minutes or so; writes BENCHMARKS.md)"
	@echo "make mutation  mutation testing of the approval protocol (a few minutes; see TESTING.md)"

setup: $(INSTALLED) $(LAMBDA_RUNTIME)

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

# The SDK the functions' Lambda runtime ships, apart from the venv (whose newer boto3 is moto's),
# for the test that imports every handler with only it, the code asset and the layer.
$(LAMBDA_RUNTIME): $(INSTALLED) requirements/lambda-runtime.txt
	rm -rf $(@D)
	$(UV) pip install --quiet --python $(PY) --no-deps --target $(@D) -r requirements/lambda-runtime.txt
	@touch $@

$(NODE_RUNTIME):
	rm -rf .node
	npm install --prefix .node --no-save --no-audit --no-fund --loglevel=error node@$(NODE_LTS)
	@touch $@

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --omit=dev --no-audit --no-fund --loglevel=error
	@touch $@

# Everything, devDependencies too: a superset of $(NODE_INSTALLED), which it stamps as well.
$(NODE_TEST_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_INSTALLED) $@

synth: $(TEMPLATE)

# CDK_VALIDATION=false skips CDK's built-in CloudFormation validation here, a WebAssembly engine
# that takes a third of the synthesis (about 6 s on a busy 2-core machine) and can only warn
# unless asked to fail: `make test` checks the same template with cfn-lint and cdk-nag, and
# `make deploy` (cdk deploy) still runs it.
$(TEMPLATE): $(RUN_INSTALLED) $(NODE_RUNTIME) $(SOURCES)
	CDK_VALIDATION=false $(PY) app.py

# The picture of the stack, from the template: a test fails when the checked-in one is out of date.
architecture: $(TEMPLATE) $(NODE_INSTALLED)
	$(PY) -m shop.infra.architecture $(TEMPLATE) docs/architecture.svg

run: $(TEMPLATE) $(NODE_INSTALLED)
	$(PY) -m shop.local

test: lint $(INSTALLED) $(LAMBDA_RUNTIME) $(NODE_TEST_INSTALLED) $(NODE_RUNTIME)
	$(PY) -m pytest

# ruff, then mypy over shop/ (pyproject.toml [tool.mypy]; its first run takes minutes: aws_cdk's types).
lint: $(INSTALLED)
	$(VENV)/bin/ruff check shop tests bench app.py
	$(VENV)/bin/mypy

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

mutation: $(MUTATION_INSTALLED) $(NODE_INSTALLED) $(NODE_RUNTIME)
	rm -rf mutants
	$(VENV)/bin/mutmut run --max-children 2 >/dev/null || true
	$(PY) -m tests.mutation_score

# Preflight, deploy, next steps (shop/deploy/). YES=1 answers its questions; ARGS passes more, e.g.
# ARGS='-c senderEmail=shop@yours.com' or ARGS='--stack MyShop'.
DEPLOY_FLAGS = $(if $(YES),--yes) $(ARGS)

deploy: $(TEMPLATE)
	npm ci --no-audit --no-fund
	@touch $(NODE_INSTALLED)
	$(PY) -m shop.deploy deploy $(DEPLOY_FLAGS)

destroy: $(TEMPLATE)
	npm ci --no-audit --no-fund
	@touch $(NODE_INSTALLED)
	$(PY) -m shop.deploy destroy $(DEPLOY_FLAGS)

# The mission's test plan against a throwaway stack (shop/deploy/smoke.py). SMOKE_ARGS: e.g. --keep,
# -c senderEmail=you@example.com. smoke-local runs the same scenarios against local mode and writes
# each one's path through the state machine to shop/deploy/local_paths.json, which smoke compares with.
smoke: $(TEMPLATE)
	npm ci --no-audit --no-fund
	@touch $(NODE_INSTALLED)
	$(PY) -m shop.deploy.smoke $(SMOKE_ARGS)

smoke-local: $(INSTALLED) $(NODE_INSTALLED) $(NODE_RUNTIME)
	$(PY) -m shop.deploy.smoke --local --record-paths $(SMOKE_ARGS)

clean:
	rm -rf cdk.out .pytest_cache .ruff_cache node_modules mutants .node
