#!/usr/bin/env bash
# Fine-tune a segmentor (FCN, UperNet) from a pretrained backbone with Slurm.
# Usage: [GPUS=4] [GPUS_PER_NODE=4] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#   bash tools/benchmarks/mmsegmentation/mim_slurm_train.sh PARTITION CONFIG PRETRAIN [PY_ARGS]
set -eo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
[ $# -ge 3 ] || die "usage: $0 PARTITION CONFIG PRETRAIN [PY_ARGS]"
require_mmcv_ops mmseg
PARTITION=$1
CFG=$2
PRETRAIN=$3
PY_ARGS=("${@:4}")
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}

pretrain_options "$PRETRAIN" model.backbone.init_cfg
slurm_train mmseg "$PARTITION" "$CFG" "$(default_work_dir mmsegmentation "$CFG")" \
  --cfg-options "${CFG_OPTIONS[@]}" model.pretrained=None "${PY_ARGS[@]}"
