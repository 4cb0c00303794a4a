# Two commands do all the setup on a fresh machine (Debian/Ubuntu, root or sudo):
#   make selfcheck   # install everything, then run the main job on the embedded default
#   make test        # install everything, then run the whole test suite
VENV ?= .venv
STAMP := $(VENV)/.octopack-installed
SHARED_DATA ?= $(abspath ../shared/data)
export OCTOPACK_SHARED_DATA ?= $(SHARED_DATA)

.PHONY: setup selfcheck test test-fast lint yaml

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py executors/install_toolchains.sh
	bash executors/install_toolchains.sh
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]"
	$(VENV)/bin/lm-eval-octopack setup
	touch $(STAMP)

# The self-check model answers every HumanEvalPack prompt with the dataset's own solution,
# through the full pipeline (prompts, lm-eval, post-processing, sandboxed execution in 6 languages).
# Data: $OCTOPACK_DATA_DIR if set, else the small dataset shipped in the package.
selfcheck: setup
	$(VENV)/bin/lm-eval-octopack selfcheck --output-dir out/selfcheck

test: setup
	$(VENV)/bin/pytest

test-fast: setup
	$(VENV)/bin/pytest -m "not slow"

lint: setup
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

yaml: setup
	$(VENV)/bin/python -m lm_eval_octopack.taskgen --write
