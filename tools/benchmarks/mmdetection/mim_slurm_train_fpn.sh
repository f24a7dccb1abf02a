#!/usr/bin/env bash
# Fine-tune an FPN detector from a pretrained backbone with Slurm.
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#   bash tools/benchmarks/mmdetection/mim_slurm_train_fpn.sh PARTITION CONFIG PRETRAIN [PY_ARGS]
set -eo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
[ $# -ge 3 ] || die "usage: $0 PARTITION CONFIG PRETRAIN [PY_ARGS]"
require_mmcv_ops mmdet
PARTITION=$1
CFG=$2
PRETRAIN=$3
PY_ARGS=("${@:4}")

pretrain_options "$PRETRAIN" model.backbone.init_cfg
slurm_train mmdet "$PARTITION" "$CFG" "$(default_work_dir mmdetection "$CFG")" \
  --cfg-options "${CFG_OPTIONS[@]}" "${PY_ARGS[@]}"
