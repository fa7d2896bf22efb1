# tokenfuse: every target installs what it needs. On a fresh clone: `make demo`, `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13 (the Lambda runtime). Under pyenv both interpreters resolve; elsewhere python3.13 on PATH is used.
export PYENV_VERSION ?= 3.11.7:3.13.0
export SAM_CLI_TELEMETRY := 0
# Python writes bytecode caches here even where the shell says not to: on a fresh clone the suite's
# two workers and its subprocesses then compile each module (and pytest rewrites each test) once.
unexport PYTHONDONTWRITEBYTECODE
PYTHON313 ?= python3.13
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
SAM_BIN := $(SAM_VENV)/bin
# uv creates and fills both environments (seconds where pip takes minutes); .ci/uv_pip.py hands it
# pip's configuration (indexes, find-links, constraints), so both resolve the same packages.
UV_VERSION := 0.13.9
UV_VENV := .venv-uv
UV := $(UV_VENV)/bin/uv
UV_PIP := $(PYTHON313) .ci/uv_pip.py $(UV)
REGION ?= us-east-1
ORG_TEMPLATES := $(wildcard org/*.yaml)

.PHONY: help venv browser browser-beside-suite suite test test-fast lint lint-ruff lint-mypy lint-imports lint-templates pytest demo bench build member-artifacts clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON313) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install --quiet uv==$(UV_VERSION)

$(BIN)/.installed: pyproject.toml layers/core/requirements.txt | $(UV)
	$(UV) venv --quiet --allow-existing --seed --python $(PYTHON313) $(VENV)
	$(UV_PIP) $(VENV) -e '.[dev]'
	@touch $@

# aws-sam-cli pins its own boto3/pydantic, so it lives in a venv of its own.
$(SAM_BIN)/.installed: | $(UV)
	$(UV) venv --quiet --allow-existing --seed --python $(PYTHON313) $(SAM_VENV)
	$(UV_PIP) $(SAM_VENV) aws-sam-cli==1.170.0 cfn-lint==1.58.0
	@touch $@

venv: $(BIN)/.installed $(SAM_BIN)/.installed  ## create both virtual environments

lint: lint-ruff lint-mypy lint-imports lint-templates  ## ruff, strict mypy over every room, import-linter (layers, 0 cycles), sam validate --lint, cfn-lint

lint-ruff: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint-mypy: $(BIN)/.installed
	$(BIN)/mypy

lint-imports: $(BIN)/.installed
	$(BIN)/lint-imports

# Each template linted once: `sam validate --lint` is cfn-lint over template.yaml (cfn-lint applies
# the SAM transform itself), so cfn-lint on its own reads only org/'s templates.
lint-templates: $(SAM_BIN)/.installed
	$(SAM_BIN)/sam validate --lint --template template.yaml --region $(REGION)
	$(SAM_BIN)/cfn-lint $(ORG_TEMPLATES)

# A real headless browser for the page tests (tests/support/browser.py): Debian's Chromium and its
# driver, installed once (about 70 s) when absent. CI runs as root on Debian; elsewhere run it with sudo.
browser:  ## install Debian's chromium and chromium-driver when /usr/bin/chromium is absent
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

# One pytest-xdist worker more than the cores: a sandbox story waits on its state machines' threads
# for about a quarter of its wall time, so a third worker keeps two cores busy (the whole suite on 2
# cores, bytecode cached: 4 min 18 s with 2 workers, 4 min 0 s with 3, 5 min 0 s with 4). --dist
# loadgroup keeps the tests that read the demo's stories on one worker, which tells each story once
# (tests/support/demo_runs.py).
WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
PYTEST_XDIST := -n $(WORKERS) --dist loadgroup
pytest: $(BIN)/.installed browser  ## the test suite (unit, integration, e2e in the sandbox)
	$(BIN)/pytest $(PYTEST_XDIST)

# Everything side by side: the two environments, the lint steps (mypy uses one core), the suite and
# the browser's install (when needed, about 70 s): the suite starts at once and its page tests wait
# for the install's stamp (tests/support/browser.py). Each step's output is printed whole when it ends.
BROWSER_STAMP := $(CURDIR)/.browser-install
test:  ## everything CI runs
	@rm -f $(BROWSER_STAMP)
	@TOKENFUSE_BROWSER_STAMP=$(BROWSER_STAMP) $(MAKE) --no-print-directory --jobs=6 --output-sync=target \
		lint suite browser-beside-suite

suite: $(BIN)/.installed
	$(BIN)/pytest $(PYTEST_XDIST)

browser-beside-suite:
	@$(MAKE) --no-print-directory browser; status=$$?; \
		echo $$status > $(BROWSER_STAMP); exit $$status

test-fast: $(BIN)/.installed  ## unit and integration tests only (no e2e sandbox stories), no lint
	$(BIN)/pytest $(PYTEST_XDIST) -m "not e2e"

demo: $(BIN)/.installed  ## the runaway-loop story in the sandbox (no AWS account)
	$(BIN)/tokenfuse demo

bench: $(BIN)/.installed  ## benchmarks; results in bench/RESULTS.md
	$(BIN)/python -m bench

build: $(SAM_BIN)/.installed  ## sam build for arm64 (python3.13 must be on PATH)
	$(SAM_BIN)/sam build --template template.yaml

# The member stacks' meter code (org/member.yaml reads it; a StackSet cannot `sam build`): the built
# layer and two handlers zipped, copied to <ARTIFACT_BUCKET_PREFIX>-<region> for each of REGIONS
# under ARTIFACT_PREFIX (a new prefix per release: CloudFormation updates code only when the key changes).
ARTIFACT_PREFIX ?= tokenfuse/0.1.0/
REGIONS ?= $(REGION)
member-artifacts: build  ## zip the meter's layer and handlers and copy them to each region's artifact bucket
	@test -n "$(ARTIFACT_BUCKET_PREFIX)" || { echo "ARTIFACT_BUCKET_PREFIX=<prefix> is required"; exit 2; }
	rm -rf .aws-sam/member && mkdir -p .aws-sam/member
	cd .aws-sam/build/CoreLayer && zip -qr ../../member/core-layer.zip .
	cd .aws-sam/build/MeterFunction && zip -qr ../../member/meter.zip .
	cd .aws-sam/build/InvocationLoggingFunction && zip -qr ../../member/invocation-logging.zip .
	for region in $(REGIONS); do \
		aws s3 cp --recursive .aws-sam/member "s3://$(ARTIFACT_BUCKET_PREFIX)-$$region/$(ARTIFACT_PREFIX)" --region $$region || exit 1; \
	done

clean:  ## remove virtual environments and build output
	rm -rf $(VENV) $(SAM_VENV) $(UV_VENV) .aws-sam
