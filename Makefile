# AppStream Role Guard - developer tasks (GNU make).
# Every target that needs Python tools bootstraps .venv itself.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The interpreter that creates the venv: Python 3.13 (through pyenv where it
# manages python3.13), else whatever python3 there is.
BOOTSTRAP_PYTHON ?= $(shell \
  if PYENV_VERSION=3.13.0 python3.13 -c 'import sys' >/dev/null 2>&1; then \
    echo 'env PYENV_VERSION=3.13.0 python3.13'; \
  else echo python3; fi)

# sam build looks up `python3.13` on PATH: put the venv's first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
# Fake credentials: tests talk to moto and fakes, never to AWS.
export AWS_ACCESS_KEY_ID := testing
export AWS_SECRET_ACCESS_KEY := testing
export AWS_SECURITY_TOKEN := testing
export AWS_SESSION_TOKEN := testing
export AWS_EC2_METADATA_DISABLED := true
unexport AWS_PROFILE

SAM := $(VENV)/bin/sam
BUILD_DIR ?= .aws-sam/build

# The peer tool `make bench` compares least-privilege with (docs/peer-comparison.md). It lives in its own
# venv: cloudsplaining pulls in its own boto3 and policy_sentry, which must not disturb .venv's lock.
PEER_VENV := .venv-peer
PEER_PY := $(PEER_VENV)/bin/python
PEER_STAMP := $(PEER_VENV)/.installed
PEER_REQUIREMENTS := scripts/peer/requirements.txt
PEER_PACKAGE := cloudsplaining==0.9.1

.PHONY: help venv test unit template demo bench validate build lint lock clean

help:
	@echo "make venv      create .venv from requirements-dev.lock (+ editable roleguard)"
	@echo "make test      run every test (unit, integration, e2e, template incl. sam build)"
	@echo "make demo      run scripts/demo.py"
	@echo "make bench     run scripts/bench.py, then scripts/bench_peer.py (ours vs cloudsplaining, in .venv-peer)"
	@echo "make validate  sam validate --lint"
	@echo "make build     sam build (no container)"
	@echo "make lint      cfn-lint template.yaml"
	@echo "make lock      re-pin requirements-dev.lock from .venv"
	@echo "make clean     remove build outputs and caches (keeps .venv)"

venv: $(STAMP)

$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(VPY) || $(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

test: venv
	$(VPY) -m pytest -q

unit: venv
	$(VPY) -m pytest -q tests/unit

template: venv
	$(VPY) -m pytest -q tests/template

demo: venv
	$(VPY) scripts/demo.py

bench: venv peer-venv
	$(VPY) scripts/bench.py
	$(VPY) scripts/bench_peer.py --peer-python $(PEER_PY)
	$(VPY) scripts/bench_scale.py

.PHONY: peer-venv peer-lock

peer-venv: $(PEER_STAMP)

$(PEER_STAMP): $(PEER_REQUIREMENTS)
	@test -x $(PEER_PY) || $(BOOTSTRAP_PYTHON) -m venv $(PEER_VENV)
	$(PEER_PY) -m pip install --quiet --disable-pip-version-check -r $(PEER_REQUIREMENTS)
	$(PEER_PY) -m pip check --disable-pip-version-check
	@touch $@

# Re-pin the peer from a fresh install of $(PEER_PACKAGE) (a throw-away venv, so nothing stale is frozen).
peer-lock:
	rm -rf $(PEER_VENV).lock
	$(BOOTSTRAP_PYTHON) -m venv $(PEER_VENV).lock
	$(PEER_VENV).lock/bin/python -m pip install --quiet --disable-pip-version-check '$(PEER_PACKAGE)'
	{ sed -n '/^#/p' $(PEER_REQUIREMENTS); $(PEER_VENV).lock/bin/python -m pip freeze; } > $(PEER_REQUIREMENTS).new
	mv $(PEER_REQUIREMENTS).new $(PEER_REQUIREMENTS)
	rm -rf $(PEER_VENV).lock

validate: venv
	$(SAM) validate --lint --template template.yaml

build: venv
	$(SAM) build --template template.yaml --build-dir $(BUILD_DIR)

lint: venv
	$(VENV)/bin/cfn-lint template.yaml

lock: venv
	{ sed -n '/^#/p' requirements-dev.lock; $(VPY) -m pip freeze --exclude-editable; } > requirements-dev.lock.new
	mv requirements-dev.lock.new requirements-dev.lock

clean:
	rm -rf .aws-sam build dist .pytest_cache *.egg-info layers/roleguard/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
