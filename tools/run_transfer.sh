#!/usr/bin/env bash
# The transfer table of a scene set: HCL, its MoCo v2 baseline, the
# supervised control and random init through detection, segmentation, the
# linear probe and kNN classification (tools/benchmarks/transfer.py).
# On the toy scenes it reuses the demo's HCL and baseline checkpoints when
# they exist (make demo); otherwise it pretrains what is missing into
# $TRANSFER_DIR/pretrain. The supervised control is pretrained with the
# object labels of the training split (its own config).
# POOL=N pretrains HCL and the baseline on an unlabelled pool of N scenes
# instead of the labelled training split (written by the scene generator,
# split "pool", when it is missing); fine-tuning uses the labelled split.
# FRACTIONS="1 0.1 0.02" trains every task on those labelled fractions at
# the same number of steps (the label-efficiency curve, transfer.py's
# --label-fraction).
# Usage: bash tools/run_transfer.sh   (PYTHON, DEMO_DIR, DATA_ROOT,
#        GENERATOR=toy|patch, TRANSFER_DIR, SEEDS, TASKS, POOL, FRACTIONS
#        may be set)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
DEMO_DIR=${DEMO_DIR:-work_dirs/demo}
DATA_ROOT=${DATA_ROOT:-data/toy_scenes}
GENERATOR=${GENERATOR:-toy}
SET=$(basename "$DATA_ROOT")
TRANSFER_DIR=${TRANSFER_DIR:-work_dirs/transfer/$SET}
SEEDS=${SEEDS:-0}
TASKS=${TASKS:-seg det linear knn}
POOL=${POOL:-0}
FRACTIONS=${FRACTIONS:-1}
SUFFIX=
declare -A CFG=(
  [hcl]=configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py
  [baseline]=configs/hcl/mocov2_resnet18_1xb32-8e_toy-scenes.py
  [sup]=configs/benchmarks/classification/toy_scenes/resnet18_supervised-1xb32-8e_toy-scenes.py
)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
GEN=tools/dataset_converters/make_${GENERATOR}_scenes.py
if [ ! -f "$GEN" ]; then
  echo "[transfer] GENERATOR must be toy or patch, got '$GENERATOR'" >&2
  exit 2
fi

if [ ! -f "$DATA_ROOT/annotations/train.json" ]; then
  echo "[transfer] generating the $GENERATOR scene dataset in $DATA_ROOT"
  "$PYTHON" "$GEN" --out "$DATA_ROOT"
fi
DATA=(train_dataloader.dataset.data_root="$DATA_ROOT"
      val_dataloader.dataset.data_root="$DATA_ROOT")
PRETRAIN_DIR=$TRANSFER_DIR/pretrain
if [ "$POOL" != 0 ]; then
  if [ ! -f "$DATA_ROOT/annotations/pool.json" ]; then
    echo "[transfer] writing an unlabelled pool of $POOL scenes in $DATA_ROOT"
    "$PYTHON" "$GEN" --out "$DATA_ROOT" --num-pool "$POOL" --pool-only
  fi
  PRETRAIN_DIR=$TRANSFER_DIR/pretrain_pool
  SUFFIX=_pool  # its own rows: the suite re-uses the other inits' runs
  SSL_DATA=(train_dataloader.dataset.ann_file=annotations/pool.json
            train_dataloader.dataset.data_prefix.img=images/pool/)
elif [ "$DATA_ROOT" = data/toy_scenes ]; then
  PRETRAIN_DIR=$DEMO_DIR  # the demo's checkpoints, when it ran
  SSL_DATA=()
else
  SSL_DATA=()
fi
NUM_CLASSES=$("$PYTHON" -c "import json,sys; print(len(json.load(open(sys.argv[1]))['categories']))" \
  "$DATA_ROOT/annotations/train.json")

pretrain() {  # name work_dir extra cfg-options...
  local name=$1 dir=$2
  shift 2
  if [ ! -f "$dir/last_checkpoint" ]; then
    echo "[transfer] pretraining $name (${CFG[$name]}) into $dir"
    "$PYTHON" tools/train.py "${CFG[$name]}" --work-dir "$dir" \
      --cfg-options "${DATA[@]}" "$@"
  fi
}
for name in hcl baseline; do
  pretrain "$name" "$PRETRAIN_DIR/$name" "${SSL_DATA[@]}"
done
pretrain sup "$TRANSFER_DIR/pretrain/sup" model.head.num_classes="$NUM_CLASSES"

# shellcheck disable=SC2086
"$PYTHON" tools/benchmarks/transfer.py \
  --pretrained hcl$SUFFIX="$(cat "$PRETRAIN_DIR/hcl/last_checkpoint")" \
  base$SUFFIX="$(cat "$PRETRAIN_DIR/baseline/last_checkpoint")" \
  sup="$(cat "$TRANSFER_DIR/pretrain/sup/last_checkpoint")" random \
  --tasks $TASKS \
  --data-root "$DATA_ROOT" --ann-train annotations/train.json \
  --ann-val annotations/val.json --img-prefix images/ --seg-prefix semantic/ \
  --seeds $SEEDS --label-fraction $FRACTIONS --work-dir "$TRANSFER_DIR" --title "Transfer, $SET" \
  --vis-backends local tensorboard
