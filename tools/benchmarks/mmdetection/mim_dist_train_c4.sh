#!/usr/bin/env bash
# Fine-tune a C4 detector (Mask/Faster R-CNN R50-C4) from a pretrained backbone
# on one machine. The backbone (stages 1-3) and the RoI head's shared res5
# layer (layer4) are both initialised from PRETRAIN.
# Usage: bash tools/benchmarks/mmdetection/mim_dist_train_c4.sh CONFIG PRETRAIN GPUS [PY_ARGS]
#   PRETRAIN: backbone written by tools/model_converters/extract_backbone_weights.py
#             (or a raw hclmm pretraining checkpoint, loaded with prefix backbone.)
set -eo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
[ $# -ge 3 ] || die "usage: $0 CONFIG PRETRAIN GPUS [PY_ARGS]"
require_mmcv_ops mmdet
CFG=$1
PRETRAIN=$2
GPUS=$3
PY_ARGS=("${@:4}")

pretrain_options "$PRETRAIN" model.backbone.init_cfg \
  model.roi_head.shared_head.init_cfg
dist_train mmdet "$CFG" "$GPUS" "$(default_work_dir mmdetection "$CFG")" \
  --cfg-options "${CFG_OPTIONS[@]}" "${PY_ARGS[@]}"
