#!/usr/bin/env bash
# Fine-tune an FPN detector (e.g. Mask R-CNN R50-FPN) from a pretrained backbone
# on one machine.
# Usage: bash tools/benchmarks/mmdetection/mim_dist_train_fpn.sh CONFIG PRETRAIN GPUS [PY_ARGS]
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

pretrain_options "$PRETRAIN" model.backbone.init_cfg
dist_train mmdet "$CFG" "$GPUS" "$(default_work_dir mmdetection "$CFG")" \
  --cfg-options "${CFG_OPTIONS[@]}" "${PY_ARGS[@]}"
