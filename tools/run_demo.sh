#!/usr/bin/env bash
# The toy demo: generate the toy scene set (if missing), pretrain HCL (the toy
# recipe) and its MoCo v2 baseline twin on the CPU, run the zero-shot tool on
# each, classify object crops by the kNN of each frozen backbone (and of a
# random one) through the transfer suite, and write a report that compares them.
# FULL=1 adds HCL with the paper's loss alone (the saturation alarm's case)
# and the suite's linear probe.
# Usage: bash tools/run_demo.sh   (PYTHON, DEMO_DIR, DATA_ROOT, FULL may be set)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
DEMO_DIR=${DEMO_DIR:-work_dirs/demo}
DATA_ROOT=${DATA_ROOT:-data/toy_scenes}
FULL=${FULL:-0}
declare -A CFG=(
  [hcl]=configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py
  [hcl_paper_loss]=configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes_paper-loss.py
  [baseline]=configs/hcl/mocov2_resnet18_1xb32-8e_toy-scenes.py
)
declare -A TITLE=([hcl]=HCL [hcl_paper_loss]="HCL paper loss" [baseline]=baseline)
RUNS=(hcl baseline)
TASKS=(knn)
if [ "$FULL" = 1 ]; then
  RUNS=(hcl hcl_paper_loss baseline)
  TASKS=(knn linear)
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
SECONDS=0
stage() { echo "[demo] $1 (at ${SECONDS} s)"; }

if [ ! -f "$DATA_ROOT/annotations/train.json" ]; then
  stage "generating the toy scene dataset in $DATA_ROOT"
  "$PYTHON" tools/dataset_converters/make_toy_scenes.py --out "$DATA_ROOT"
fi

REPORT_ARGS=()
for name in "${RUNS[@]}"; do
  cfg=${CFG[$name]}
  stage "pretraining $name ($cfg)"
  "$PYTHON" tools/train.py "$cfg" --work-dir "$DEMO_DIR/$name" \
    --cfg-options train_dataloader.dataset.data_root="$DATA_ROOT" \
    val_dataloader.dataset.data_root="$DATA_ROOT"
  ckpt=$(cat "$DEMO_DIR/$name/last_checkpoint")
  stage "zero-shot evaluation of $name"
  "$PYTHON" tools/analysis_tools/zero_shot.py "$cfg" "$ckpt" \
    --data-root "$DATA_ROOT" --ann-file annotations/val.json \
    --data-prefix images/val --out-dir "$DEMO_DIR/$name/zero_shot"
  REPORT_ARGS+=(--run "${TITLE[$name]}=$DEMO_DIR/$name/zero_shot")
  if [ "$name" != baseline ]; then
    REPORT_ARGS+=(--compare "${TITLE[$name]}:baseline")
  fi
done

stage "transfer: ${TASKS[*]} from the frozen backbones (tools/benchmarks/transfer.py)"
"$PYTHON" tools/benchmarks/transfer.py \
  --pretrained HCL="$(cat "$DEMO_DIR/hcl/last_checkpoint")" \
  baseline="$(cat "$DEMO_DIR/baseline/last_checkpoint")" random \
  --tasks "${TASKS[@]}" --data-root "$DATA_ROOT" --seeds 0 \
  --work-dir "$DEMO_DIR/transfer" --title "Transfer from the demo's backbones" \
  --vis-backends local tensorboard

"$PYTHON" tools/analysis_tools/demo_report.py "${REPORT_ARGS[@]}" \
  --transfer "$DEMO_DIR/transfer/transfer.json" --out "$DEMO_DIR/report.md"
stage "done"
