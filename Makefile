# hclmm: `make test` and `make demo` set up their environment themselves.
# `make demo` (and `make bench`) need only the pretraining stack: mmcv without
# its C++ ops (built in seconds), no mmdet/mmseg (tools/setup_env.sh
# --minimal). `make test` and `make setup` bring in the full stack in the
# same venv (mmcv built with its ops, about 20 minutes the first time; mmdet,
# mmseg, test tools). Both mmcv wheels are cached in ~/.cache/hclmm/wheels.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# FULL=1: `make demo` also pretrains HCL with the paper's loss alone and runs
# the linear probe
FULL ?= 0

.PHONY: setup setup-minimal test demo transfer clean-demo bench

setup:
	bash tools/setup_env.sh --full $(VENV)

setup-minimal:
	bash tools/setup_env.sh --minimal $(VENV)

test: setup
	$(PY) -m pytest tests -q -ra --timeout=900 $(PYTEST_ARGS)

demo: setup-minimal
	PYTHON=$(abspath $(PY)) FULL=$(FULL) bash tools/run_demo.sh

# HCL, its baseline, the supervised control and random init through
# det/seg/linear/kNN on the toy scenes (needs the full stack: mmdet, mmseg);
# reuses the demo's checkpoints. Variables of tools/run_transfer.sh pass
# through: make transfer SEEDS="0 1 2" TASKS=seg DATA_ROOT=data/patch_scenes
# GENERATOR=patch POOL=4000
transfer: setup
	PYTHON=$(abspath $(PY)) bash tools/run_transfer.sh

bench: setup-minimal
	$(PY) benchmarks/bench_pairwise_dist.py
	$(PY) benchmarks/bench_train_step.py
	$(PY) benchmarks/bench_data_pipeline.py

clean-demo:
	rm -rf work_dirs/demo
