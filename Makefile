# Two commands do all the set-up on a fresh machine:
#   make demo   install into .venv, generate demo logs if absent, start TensorBoard on them
#   make test   install test extras and Debian's Chromium, build the frontend, run every test

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PORT ?= 6006
# The CPU build of torch this machine kind keeps on disk; a plain "torch" would pull a CUDA build.
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test venv chromium frontend-deps frontend-test bench clean

venv: $(PY)

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

frontend-deps:
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

demo: venv frontend-deps
	$(PIP) install --quiet '$(TORCH_SPEC)'
	$(PIP) install --quiet -e '.[demo]'
	@if ! ls demo_logs/*/events.out.tfevents.* >/dev/null 2>&1; then $(PY) demo_logs/generate.py; fi
	@echo "ModelLens demo: open http://localhost:$(PORT)/#modellens"
	$(VENV)/bin/tensorboard --logdir demo_logs --port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core; }

test: venv chromium frontend-deps
	$(PIP) install --quiet '$(TORCH_SPEC)'
	$(PIP) install --quiet -e '.[test]'
	$(VENV)/bin/ruff check writer tb_plugin tests bench demo_logs docs setup.py
	$(VENV)/bin/ruff format --check writer tb_plugin tests bench demo_logs docs setup.py
	cd frontend && npm run --silent typecheck && npm run --silent lint && npm test --silent
	$(PY) -m pytest tests

bench: venv
	$(PIP) install --quiet '$(TORCH_SPEC)'
	$(PIP) install --quiet -e '.[bench]'
	$(PY) bench/run_all.py

clean:
	rm -rf build *.egg-info tb_plugin/static frontend/node_modules frontend/build-tests test-artifacts
