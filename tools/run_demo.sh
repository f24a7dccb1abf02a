#!/usr/bin/env bash
# The toy demo: generate the toy scene set (if missing), pretrain HCL (the toy
# recipe), HCL with the paper's loss alone and their MoCo v2 baseline twin on
# the CPU, run the zero-shot tool on each, write a report with the checks.
# Usage: bash tools/run_demo.sh   (PYTHON, DEMO_DIR, DATA_ROOT may be set)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
DEMO_DIR=${DEMO_DIR:-work_dirs/demo}
DATA_ROOT=${DATA_ROOT:-data/toy_scenes}
declare -A CFG=(
  [hcl]=configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py
  [hcl_paper_loss]=configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes_paper-loss.py
  [baseline]=configs/hcl/mocov2_resnet18_1xb32-8e_toy-scenes.py
)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}

if [ ! -f "$DATA_ROOT/annotations/train.json" ]; then
  echo "[demo] generating the toy scene dataset in $DATA_ROOT"
  "$PYTHON" tools/dataset_converters/make_toy_scenes.py --out "$DATA_ROOT"
fi

for name in hcl hcl_paper_loss baseline; do
  cfg=${CFG[$name]}
  echo "[demo] pretraining $name ($cfg)"
  "$PYTHON" tools/train.py "$cfg" --work-dir "$DEMO_DIR/$name" \
    --cfg-options train_dataloader.dataset.data_root="$DATA_ROOT"
  ckpt=$(cat "$DEMO_DIR/$name/last_checkpoint")
  echo "[demo] zero-shot evaluation of $name"
  "$PYTHON" tools/analysis_tools/zero_shot.py "$cfg" "$ckpt" \
    --data-root "$DATA_ROOT" --ann-file annotations/val.json \
    --data-prefix images/val --out-dir "$DEMO_DIR/$name/zero_shot"
done

"$PYTHON" tools/analysis_tools/demo_report.py \
  --run HCL="$DEMO_DIR/hcl/zero_shot" \
  --run "HCL paper loss"="$DEMO_DIR/hcl_paper_loss/zero_shot" \
  --run baseline="$DEMO_DIR/baseline/zero_shot" \
  --compare HCL:baseline --compare "HCL paper loss":baseline \
  --out "$DEMO_DIR/report.md"
