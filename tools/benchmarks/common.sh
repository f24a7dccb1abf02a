# shellcheck shell=bash
# Helpers shared by the benchmark launch scripts (sourced, not run).
#
# Environment read by every launch script:
#   PYTHON     interpreter that has torch, hclmm and the library (default: python)
#   WORK_DIR   work directory (default: work_dirs/benchmarks/<lib>/<config name>)
#   PORT       rendezvous port of single-machine runs (default: 29500 without
#              mim, a random free port with mim)
#   NO_MIM=1   use the library's own tools/train.py even when `mim` is installed
#   DRY_RUN=1  print the training command instead of running it

HCLMM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON=${PYTHON:-python}
export PYTHONPATH="$HCLMM_ROOT${PYTHONPATH:+:$PYTHONPATH}"

die() { echo "ERROR: $*" >&2; exit 1; }

# pretrain_options PRETRAIN KEY...
# Fills CFG_OPTIONS with `--cfg-options` entries that initialise every config
# key KEY (e.g. model.backbone) from PRETRAIN. PRETRAIN may be an extracted
# backbone (loaded without a prefix) or a raw pretraining checkpoint (loaded
# with prefix backbone.); anything else stops here with a clear error.
pretrain_options() {
  local pretrain=$1 prefix key
  shift
  [ -f "$pretrain" ] || die "pretrained weights '$pretrain' not found"
  pretrain="$(cd "$(dirname "$pretrain")" && pwd)/$(basename "$pretrain")"
  prefix=$("$PYTHON" "$HCLMM_ROOT/tools/benchmarks/pretrain_prefix.py" "$pretrain") \
    || die "cannot use '$pretrain' as pretrained backbone"
  echo "Initialising $* from $pretrain (prefix: $prefix)" >&2
  CFG_OPTIONS=()
  for key in "$@"; do
    CFG_OPTIONS+=("$key.type=Pretrained" "$key.checkpoint=$pretrain" "$key.prefix=$prefix")
  done
}

# require_mmcv_ops LIB: mmdet and mmseg need mmcv's compiled ops, which the
# minimal setup of `make demo` (tools/setup_env.sh --minimal: mmcv-lite)
# leaves out. Stops with the command that brings in the full stack. Looks
# at the files only (importing mmcv is slow).
require_mmcv_ops() {
  "$PYTHON" - "$1" <<'PY' || exit 1
import glob
import importlib.util
import os.path as osp
import sys

lib = sys.argv[1]
spec = importlib.util.find_spec('mmcv')
folder = (list(spec.submodule_search_locations)[0]
          if spec is not None and spec.submodule_search_locations else None)
if folder is None:
    what = 'not installed'
elif not (glob.glob(osp.join(folder, '_ext*.so')) +
          glob.glob(osp.join(folder, '_ext*.pyd'))):
    what = ('installed without its compiled ops (mmcv-lite, the minimal '
            'setup of `make demo`)')
else:
    sys.exit(0)
sys.exit(f'ERROR: {lib} needs mmcv with its C++ ops, but mmcv is {what} in '
         f'{sys.executable}. Bring in the full stack first: make setup (or '
         'bash tools/setup_env.sh --full; about 20 minutes the first time, '
         'the wheel is cached afterwards)')
PY
}

# default_work_dir BENCHMARK CONFIG
default_work_dir() {
  local name
  name=$(basename "$2")
  echo "${WORK_DIR:-work_dirs/benchmarks/$1/${name%.py}}"
}

# lib_train_script LIB: the training entry point shipped inside LIB's package
# (found without importing LIB).
lib_train_script() {
  "$PYTHON" - "$1" <<'PY'
import importlib.util
import os.path as osp
import sys

lib = sys.argv[1]
spec = importlib.util.find_spec(lib)
if spec is None or not spec.submodule_search_locations:
    sys.exit(f'ERROR: {lib} is not installed in {sys.executable}')
path = osp.join(list(spec.submodule_search_locations)[0], '.mim', 'tools',
                'train.py')
if not osp.isfile(path):
    sys.exit(f'ERROR: {lib} has no {path}; reinstall {lib} from its wheel '
             'or install openmim')
print(path)
PY
}

run_or_print() {
  if [ -n "${DRY_RUN:-}" ]; then
    printf '%q ' "$@"
    echo
  else
    set -x
    "$@"
  fi
}

use_mim() { [ -z "${NO_MIM:-}" ] && command -v mim >/dev/null 2>&1; }

# dist_train LIB CONFIG GPUS WORK_DIR [TRAIN ARGS...]: one machine, GPUS processes.
dist_train() {
  local lib=$1 cfg=$2 gpus=$3 work_dir=$4 train_py
  shift 4
  if use_mim; then
    local port_args=()
    if [ -n "${PORT:-}" ]; then port_args=(--port "$PORT"); fi
    run_or_print mim train "$lib" "$cfg" --launcher pytorch --gpus "$gpus" \
      "${port_args[@]}" --work-dir "$work_dir" "$@"
  else
    train_py=$(lib_train_script "$lib") || exit 1
    run_or_print "$PYTHON" -m torch.distributed.run --nnodes=1 \
      --nproc_per_node="$gpus" --master_port="${PORT:-29500}" \
      "$train_py" "$cfg" --launcher pytorch --work-dir "$work_dir" "$@"
  fi
}

# slurm_train LIB PARTITION CONFIG WORK_DIR [TRAIN ARGS...]
# Reads GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS, JOB_NAME.
slurm_train() {
  local lib=$1 partition=$2 cfg=$3 work_dir=$4 train_py
  shift 4
  local gpus=${GPUS:-8} gpus_per_node=${GPUS_PER_NODE:-8}
  local cpus_per_task=${CPUS_PER_TASK:-5} srun_args=${SRUN_ARGS:-}
  local name
  name=$(basename "$cfg")
  if [ "$gpus" -lt "$gpus_per_node" ]; then gpus_per_node=$gpus; fi
  if use_mim; then
    run_or_print mim train "$lib" "$cfg" --launcher slurm --gpus "$gpus" \
      --gpus-per-node "$gpus_per_node" --cpus-per-task "$cpus_per_task" \
      --partition "$partition" --srun-args "$srun_args" \
      --work-dir "$work_dir" "$@"
  else
    train_py=$(lib_train_script "$lib") || exit 1
    # shellcheck disable=SC2086  # SRUN_ARGS is a list of words on purpose
    run_or_print srun -p "$partition" --job-name="${JOB_NAME:-${name%.py}}" \
      --gres=gpu:"$gpus_per_node" --ntasks="$gpus" \
      --ntasks-per-node="$gpus_per_node" --cpus-per-task="$cpus_per_task" \
      --kill-on-bad-exit=1 $srun_args \
      "$PYTHON" -u "$train_py" "$cfg" --launcher slurm --work-dir "$work_dir" "$@"
  fi
}
