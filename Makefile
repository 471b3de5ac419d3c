# ionmd: the two-command quick start (`make demo`, `make test`) and its install step.
# Everything goes into .venv at the repository root.

VENV    := .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
TORCH   := torch==2.13.0
MACE    := mace-torch==0.3.16
PYTEST_ARGS ?=
# two pytest-xdist workers, whole files each (tests/xdist_files.py keeps the SLURM files on
# one worker): 291 s vs 489 s serial for every 6th test file on this 2-core machine
# (2026-12-07, same tree, one after the other); PYTEST_XDIST= runs serially
PYTEST_XDIST ?= -n 2 --dist loadfile

.PHONY: install install-gpu deps test demo bench clean

install: deps
	@# --no-build-isolation: build the plugin against the torch in .venv (an isolated
	@# build env would fetch another torch); the build dir is kept for fast rebuilds.
	$(PIP) install --quiet --no-build-isolation --no-deps .
	@$(PY) -c "import ionmd._plugin as p; print('ionmd plugin:', p.plugin_path())"

# On a machine with an NVIDIA GPU and a CUDA build of torch: cuEquivariance's kernels
# for `ionmd export ... --kernels cueq` (docs/gpu.md). Never needed for `make test`.
install-gpu: install
	$(PIP) install --quiet "cuequivariance-ops-torch-cu12==0.13.0"

deps: $(VENV)/.deps-installed

$(VENV)/.deps-installed: requirements.txt constraints.txt Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	@# torch first, by exact version, from the index pip is configured with (on PyPI its Linux
	@# wheel is the CUDA build: PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu for the CPU one)
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -c constraints.txt -r requirements.txt
	@# mace-torch pins e3nn==0.4.4; with e3nn 0.6 its energies are unchanged
	@# (examples/check_mace_e3nn.py), so it goes in without its pins
	$(PIP) install --quiet --no-deps $(MACE)
	touch $@

test: install
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m pytest -q $(PYTEST_XDIST) $(PYTEST_ARGS)

demo: install
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) examples/demo.py

bench: install
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) examples/bench_sevennet.py

clean:
	rm -rf build demo-run bench-out
