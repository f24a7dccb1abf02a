#!/usr/bin/env bash
# Fine-tune a segmentor (FCN, UperNet) from a pretrained backbone on one machine.
# Usage: bash tools/benchmarks/mmsegmentation/mim_dist_train.sh CONFIG PRETRAIN GPUS [PY_ARGS]
#   PRETRAIN: backbone written by tools/model_converters/extract_backbone_weights.py
#             (or a raw hclmm pretraining checkpoint, loaded with prefix backbone.)
set -eo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
[ $# -ge 3 ] || die "usage: $0 CONFIG PRETRAIN GPUS [PY_ARGS]"
require_mmcv_ops mmseg
CFG=$1
PRETRAIN=$2
GPUS=$3
PY_ARGS=("${@:4}")

pretrain_options "$PRETRAIN" model.backbone.init_cfg
# mmseg refuses `model.pretrained` together with a backbone init_cfg.
dist_train mmseg "$CFG" "$GPUS" "$(default_work_dir mmsegmentation "$CFG")" \
  --cfg-options "${CFG_OPTIONS[@]}" model.pretrained=None "${PY_ARGS[@]}"
