#!/usr/bin/env bash
# Bring up the hclmm environment, at one of two levels, in one virtual env:
#
#   --minimal  what pretraining, the zero-shot tool, the demo and the
#              benchmarks need: torch, mmcv 2.1.0 WITHOUT its C++ ops (the
#              pure-Python "mmcv-lite" build, made from the mmcv sdist in
#              seconds), mmengine, mmpretrain, geoopt, hclmm.
#              (`make demo`, `make bench`, `make setup-minimal`)
#   --full     (the default) everything: mmcv 2.1.0 built from source WITH
#              its C++ ops (about 20 minutes on 2 cores the first time),
#              mmdet, mmsegmentation and the test tools.
#              (`make test`, `make setup`; needed by the transfer tools)
#
# Every pip install takes requirements/pinned.txt as constraints (-c), so
# both levels install exactly the tested versions; the requirement files
# hold ranges (what `pip install -e .` into another environment accepts).
#
# Both mmcv wheels are built once and cached outside the repository; --full
# on a minimal environment replaces mmcv-lite with the full mmcv, --minimal
# on a full environment keeps the full mmcv (and uses a cached full wheel
# instead of building the lite one when there is one).
#
# Idempotent: each level keeps a stamp of its inputs (requirement files,
# setup.py, this script, tools/check_env.py) in the venv; when they did not
# change since the last successful run it only runs the self-check. A
# current full stamp satisfies --minimal too.
#
# Usage: bash tools/setup_env.sh [--minimal|--full] [--dry-run] [VENV_DIR]
#   (default VENV_DIR: .venv). --dry-run prints the plan for VENV_DIR as it
#   is now (what would be created, built, installed) and changes nothing.
#
# Environment:
#   HCLMM_PYTHON      interpreter used to create the venv (default: python3.11, python3)
#   HCLMM_WHEEL_CACHE where the built mmcv wheels are kept (default: ~/.cache/hclmm/wheels)
#   MAX_JOBS          parallel compile jobs for the full mmcv build (default: nproc)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LEVEL=full
DRY_RUN=0
VENV=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minimal) LEVEL=minimal ;;
    --full) LEVEL=full ;;
    --dry-run) DRY_RUN=1 ;;
    -h|--help) sed -n '2,35p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) printf '[setup] ERROR: unknown option %s (see --help)\n' "$1" >&2; exit 2 ;;
    *) [ -z "$VENV" ] || { printf '[setup] ERROR: more than one VENV_DIR\n' >&2; exit 2; }
       VENV="$1" ;;
  esac
  shift
done
VENV="${VENV:-${HCLMM_VENV:-$ROOT/.venv}}"
CACHE="${HCLMM_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hclmm/wheels}"
MMCV_VERSION=2.1.0
TORCH_VERSION=2.13.0

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
# run CMD...: run it, or with --dry-run print it
run() {
  if [ "$DRY_RUN" = 1 ]; then
    printf '[setup] would run:' >&2
    printf ' %q' "$@" >&2
    printf '\n' >&2
  else
    "$@"
  fi
}

PY="${HCLMM_PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1; then PY="$cand"; break; fi
  done
fi
[ -n "$PY" ] || die "no python3 interpreter found"

# pip runs isolated from user/site configuration so that a local folder of
# '+cpu' torch wheels cannot shadow the registry's default build; the CA bundle
# is passed explicitly because --isolated ignores PIP_CERT.
PIP_ARGS=(--isolated --disable-pip-version-check --timeout 180)
if [ -n "${PIP_CERT:-}" ] && [ -f "${PIP_CERT}" ]; then PIP_ARGS+=(--cert "$PIP_CERT"); fi

stamp_of() {
  cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" "$ROOT/tools/setup_env.sh" \
    "$ROOT/tools/check_env.py" | sha256sum | cut -d' ' -f1
}
STAMP_MINIMAL="$VENV/.hclmm-setup-stamp-minimal"
STAMP_FULL="$VENV/.hclmm-setup-stamp-full"
want_stamp="$(stamp_of)"
stamp_is_current() { [ -f "$1" ] && [ "$(cat "$1")" = "$want_stamp" ]; }

CHECK_ARGS=(--pinned)
if [ "$LEVEL" = full ]; then CHECK_ARGS+=(--transfer); fi
up_to_date=0
if [ -x "$VENV/bin/python" ]; then
  if stamp_is_current "$STAMP_FULL"; then up_to_date=1
  elif [ "$LEVEL" = minimal ] && stamp_is_current "$STAMP_MINIMAL"; then up_to_date=1
  fi
fi
if [ "$up_to_date" = 1 ]; then
  log "environment up to date ($VENV, $LEVEL); running self-check"
  if [ "$DRY_RUN" = 1 ]; then
    run "$VENV/bin/python" "$ROOT/tools/check_env.py" "${CHECK_ARGS[@]}"
    exit 0
  fi
  exec "$VENV/bin/python" "$ROOT/tools/check_env.py" "${CHECK_ARGS[@]}"
fi

start=$(date +%s)
log "setting up the $LEVEL environment in $VENV"
if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV with $PY"
  run "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
PINS="$ROOT/requirements/pinned.txt"
pip_install() { run "$VPY" -m pip install "${PIP_ARGS[@]}" -c "$PINS" "$@"; }

log "installing torch/torchvision (registry default build) and build tools"
pip_install -r "$ROOT/requirements/build.txt"

# The interpreter of the venv (or, in a dry run before it exists, the one
# that would create it) names the wheels' Python tag.
TAG_PY="$VPY"
[ -x "$TAG_PY" ] || TAG_PY="$PY"
PYTAG="$("$TAG_PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
FULL_DIR="$CACHE/mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$PYTAG-ops"
LITE_DIR="$CACHE/mmcv-$MMCV_VERSION-noops"
cached_wheel() { ls "$1"/mmcv*-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true; }

# The mmcv installed in the venv: "full VERSION" (with the compiled ops),
# "lite VERSION" (without) or "none". Looks at the files only: importing mmcv
# would need its dependencies.
mmcv_state() {
  [ -x "$VPY" ] || { echo none; return; }
  "$VPY" - <<'PY'
import glob
import importlib.util
import os.path as osp
import re

spec = importlib.util.find_spec('mmcv')
if spec is None or not spec.submodule_search_locations:
    print('none')
else:
    folder = list(spec.submodule_search_locations)[0]
    try:
        with open(osp.join(folder, 'version.py')) as f:
            version = re.search(r"__version__\s*=\s*'([^']+)'", f.read())[1]
    except (OSError, TypeError):
        version = '?'
    has_ops = bool(glob.glob(osp.join(folder, '_ext*.so')) +
                   glob.glob(osp.join(folder, '_ext*.pyd')))
    print(('full' if has_ops else 'lite') + ' ' + version)
PY
}

# build_wheel OPS DIR: build mmcv from its sdist (MMCV_WITH_OPS=OPS) into DIR.
# The sdist is built as a file, not by name: with MMCV_WITH_OPS=0 mmcv names
# itself mmcv-lite, which `pip wheel mmcv==...` rejects. --no-cache-dir: pip's
# own wheel cache is keyed by the sdist only, so it would hand back a wheel
# built with the other MMCV_WITH_OPS or against another torch.
build_wheel() {
  local ops=$1 dir=$2 tmp
  if [ "$DRY_RUN" = 1 ]; then tmp="<tmp>"; else tmp="$(mktemp -d)"; fi
  run "$VPY" -m pip download "${PIP_ARGS[@]}" --no-cache-dir --no-deps \
    --no-binary :all: -d "$tmp" "mmcv==$MMCV_VERSION"
  run env MMCV_WITH_OPS="$ops" FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "$VPY" -m pip wheel "${PIP_ARGS[@]}" --no-cache-dir --no-build-isolation \
    --no-deps -w "$tmp" "$tmp/mmcv-$MMCV_VERSION.tar.gz"
  run mkdir -p "$dir"
  if [ "$DRY_RUN" = 1 ]; then
    run mv "$tmp/mmcv*-$MMCV_VERSION-*.whl" "$dir/"
  else
    mv "$tmp"/mmcv*-"$MMCV_VERSION"-*.whl "$dir"/
    rm -rf "$tmp"
  fi
}

state="$(mmcv_state)"
full_wheel="$(cached_wheel "$FULL_DIR")"
if [ "$LEVEL" = full ]; then
  if [ "$state" = "full $MMCV_VERSION" ]; then
    log "mmcv $MMCV_VERSION with ops already installed"
  else
    if [ -z "$full_wheel" ]; then
      log "building mmcv $MMCV_VERSION with ops from source into $FULL_DIR (about 20 minutes on 2 cores)"
      build_wheel 1 "$FULL_DIR"
      full_wheel="$FULL_DIR/mmcv-$MMCV_VERSION-<tag>.whl"
      [ "$DRY_RUN" = 1 ] || full_wheel="$(cached_wheel "$FULL_DIR")"
    fi
    if [ "${state%% *}" = lite ]; then
      log "replacing mmcv-lite (no ops) by the full mmcv"
    fi
    # both distributions own the mmcv/ package: remove either first
    [ "$state" = none ] || run "$VPY" -m pip uninstall -y mmcv-lite mmcv
    log "installing the cached mmcv wheel with ops"
    pip_install --no-deps --force-reinstall "$full_wheel"
  fi
else
  if [ "$state" = "full $MMCV_VERSION" ] || [ "$state" = "lite $MMCV_VERSION" ]; then
    log "mmcv $MMCV_VERSION already installed (${state%% *}); kept"
  else
    [ "$state" = none ] || run "$VPY" -m pip uninstall -y mmcv-lite mmcv
    if [ -n "$full_wheel" ]; then
      log "installing the cached mmcv wheel with ops (no build needed)"
      pip_install --no-deps "$full_wheel"
    else
      lite_wheel="$(cached_wheel "$LITE_DIR")"
      if [ -z "$lite_wheel" ]; then
        log "building mmcv $MMCV_VERSION without ops (mmcv-lite) into $LITE_DIR (seconds)"
        build_wheel 0 "$LITE_DIR"
        lite_wheel="$LITE_DIR/mmcv_lite-$MMCV_VERSION-py2.py3-none-any.whl"
        [ "$DRY_RUN" = 1 ] || lite_wheel="$(cached_wheel "$LITE_DIR")"
      fi
      log "installing the cached mmcv wheel without ops"
      pip_install --no-deps "$lite_wheel"
    fi
  fi
fi
# mmcv's own runtime dependencies (the wheel was installed without them)
pip_install addict packaging Pillow pyyaml yapf opencv-python

# mmcv itself (requirements/mminstall.txt) came from the cached wheel above
REQS=(-r "$ROOT/requirements/runtime.txt")
if [ "$LEVEL" = full ]; then
  log "installing mmengine, mmpretrain, geoopt, mmdet, mmsegmentation and test tools"
  REQS+=(-r "$ROOT/requirements/transfer.txt" -r "$ROOT/requirements/tests.txt"
         -r "$ROOT/requirements/openmim.txt")
else
  log "installing mmengine, mmpretrain and geoopt (no mmdet/mmsegmentation)"
fi
pip_install "${REQS[@]}"
if [ "$LEVEL" = full ]; then
  # openmim without its dependencies (see requirements/openmim.txt)
  pip_install --no-deps openmim
fi
# editable: setup.py links configs/ and tools/ into hclmm/.mim
pip_install --no-deps --no-build-isolation -e "$ROOT"

run "$VPY" "$ROOT/tools/check_env.py" "${CHECK_ARGS[@]}"
if [ "$LEVEL" = full ]; then stamp="$STAMP_FULL"; else stamp="$STAMP_MINIMAL"; fi
if [ "$DRY_RUN" = 1 ]; then
  log "would write $stamp"
else
  echo "$want_stamp" > "$stamp"
  rm -f "$VENV/.hclmm-setup-stamp"  # the single stamp of earlier versions
  log "done in $(( $(date +%s) - start )) s"
fi
