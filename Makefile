# `make demo`: set up .venv and run the main job.  `make test`: set up .venv and run the tests.
# Both first run `make warm`: compile the heuristics' and samplers' Numba kernels into Numba's
# cache (minutes once after installing or changing a kernel's module, seconds when cached).
# `make notebooks`: install JupyterLab into .venv and open examples/.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP_ALL  := $(VENV)/.installed-all
STAMP_TEST := $(VENV)/.installed-test
PYTEST_ARGS ?= -n 2

.PHONY: demo test test-slow venv warm notebooks clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP_ALL): pyproject.toml | $(PY)
	$(PIP) install -q -e '.[all]'
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PIP) install -q -e '.[all,test]'
	touch $@ $(STAMP_ALL)

venv: $(STAMP_TEST)

warm: $(STAMP_ALL)
	OMP_NUM_THREADS=1 $(PY) -m cutslack.warmup

demo: $(STAMP_ALL) warm
	OMP_NUM_THREADS=1 $(PY) -m cutslack.demo

notebooks: $(STAMP_ALL)
	$(PIP) install -q -e '.[all,notebooks]'
	$(VENV)/bin/jupyter lab examples/

test: $(STAMP_TEST) warm
	$(PY) -m pytest $(PYTEST_ARGS)

test-slow: $(STAMP_TEST)
	$(PY) -m pytest $(PYTEST_ARGS) -m slow

clean:
	rm -rf $(VENV) build *.egg-info
