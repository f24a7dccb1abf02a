#!/usr/bin/env bash
# The transfer table on the toy scenes: HCL, its MoCo v2 baseline and random
# init through detection, segmentation, the linear probe and kNN
# classification (tools/benchmarks/transfer.py). Reuses the demo's
# checkpoints when they exist (make demo), otherwise pretrains both models
# first.
# Usage: bash tools/run_transfer.sh   (PYTHON, DEMO_DIR, DATA_ROOT,
#        TRANSFER_DIR, SEEDS may be set)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
DEMO_DIR=${DEMO_DIR:-work_dirs/demo}
DATA_ROOT=${DATA_ROOT:-data/toy_scenes}
TRANSFER_DIR=${TRANSFER_DIR:-work_dirs/transfer/toy_scenes}
SEEDS=${SEEDS:-0}
declare -A CFG=(
  [hcl]=configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py
  [baseline]=configs/hcl/mocov2_resnet18_1xb32-8e_toy-scenes.py
)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}

if [ ! -f "$DATA_ROOT/annotations/train.json" ]; then
  echo "[transfer] generating the toy scene dataset in $DATA_ROOT"
  "$PYTHON" tools/dataset_converters/make_toy_scenes.py --out "$DATA_ROOT"
fi
for name in hcl baseline; do
  if [ ! -f "$DEMO_DIR/$name/last_checkpoint" ]; then
    echo "[transfer] pretraining $name (${CFG[$name]})"
    "$PYTHON" tools/train.py "${CFG[$name]}" --work-dir "$DEMO_DIR/$name" \
      --cfg-options train_dataloader.dataset.data_root="$DATA_ROOT" \
      val_dataloader.dataset.data_root="$DATA_ROOT"
  fi
done

# shellcheck disable=SC2086
"$PYTHON" tools/benchmarks/transfer.py \
  --pretrained hcl="$(cat "$DEMO_DIR/hcl/last_checkpoint")" \
  base="$(cat "$DEMO_DIR/baseline/last_checkpoint")" random \
  --tasks seg det linear knn \
  --data-root "$DATA_ROOT" --ann-train annotations/train.json \
  --ann-val annotations/val.json --img-prefix images/ --seg-prefix semantic/ \
  --seeds $SEEDS --work-dir "$TRANSFER_DIR" --title "Transfer, $(basename "$DATA_ROOT")" \
  --vis-backends local tensorboard
