# The two commands of the README. Each creates .venv on first use.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-min bench bench-quick clean

$(BIN)/activate:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install -q -e '.[test,examples]'
	touch $@

$(VENV)/.installed-examples: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install -q -e '.[examples]'
	touch $@

# Checkpoints and TensorBoard events go to runs/digits; a second run resumes.
demo: $(VENV)/.installed-examples
	$(BIN)/python examples/digits.py --logdir runs/digits

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -n 2

# The lowest versions pyproject.toml declares, in .venv-min, and a smoke subset.
test-min:
	PY=$(PY) .ci/test-min

# The TF1 column of bench_mts needs `$(BIN)/pip install -e '.[bench]'` first.
bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.run_all

bench-quick: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.run_all --quick

clean:
	rm -rf $(VENV) .venv-min build *.egg-info

# Rewrites tests/goldens/tf_goldens.json with TensorFlow itself (compat.v1).
# TF_PYTHON must have the `bench` extra (tensorflow-cpu, tf-keras), e.g. a
# venv made with `python3.11 -m venv .venv-tf && .venv-tf/bin/pip install -e '.[bench]'`.
TF_PYTHON ?= .venv-tf/bin/python
.PHONY: goldens
goldens:
	$(TF_PYTHON) tests/goldens/generate.py
