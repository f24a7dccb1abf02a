"""Self-check of the hclmm environment: fails loudly with a one-line reason.

``python tools/check_env.py`` checks the full stack (mmcv with its compiled
ops, mmdet, mmseg); ``--minimal`` checks what pretraining, the zero-shot tool
and the demo need (mmcv without ops is enough, mmdet/mmseg are not needed).
"""
import argparse
import importlib
import sys

#: The pretraining stack (tools/setup_env.sh --minimal).
CORE_PINS = {
    'torch': '2.13.0',
    'torchvision': '0.28.0',
    'mmcv': '2.1.0',
    'mmengine': '0.10.7',
    'mmpretrain': '1.2.0',
    'geoopt': '0.5.1',
}
#: Added by tools/setup_env.sh --full.
TRANSFER_PINS = {
    'mmdet': '3.3.0',
    'mmseg': '1.2.2',
}
PINS = {**CORE_PINS, **TRANSFER_PINS}


def fail(reason):
    print(f'[check_env] FAILED: {reason}', file=sys.stderr)
    sys.exit(1)


def mmcv_has_ops() -> bool:
    """Do mmcv's compiled ops import (False for mmcv-lite)?"""
    try:
        from mmcv.ops import nms, RoIAlign  # noqa: F401
    except Exception:  # noqa: BLE001
        return False
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--minimal', action='store_true',
        help='check only the pretraining stack (no mmcv.ops, mmdet, mmseg)')
    args = parser.parse_args(argv)
    pins = CORE_PINS if args.minimal else PINS
    for name, want in pins.items():
        try:
            mod = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - report any import failure
            fail(f'`import {name}` failed: {type(exc).__name__}: {exc}')
        got = getattr(mod, '__version__', '?')
        if name == 'torch' and '+cpu' in got:
            fail(f'torch {got} is a +cpu build; torchvision needs the '
                 'registry default build (see docs/get_started.md)')
        if got.split('+')[0] != want:
            fail(f'{name} version drifted: installed {got}, pinned {want}')
    ops = mmcv_has_ops()
    if not args.minimal and not ops:
        try:
            from mmcv.ops import nms, RoIAlign  # noqa: F401,F811
        except Exception as exc:  # noqa: BLE001
            fail(f'mmcv.ops does not import ({exc}); rebuild mmcv with '
                 'MMCV_WITH_OPS=1 (bash tools/setup_env.sh --full)')
    try:
        import hclmm  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        fail(f'`import hclmm` failed: {type(exc).__name__}: {exc}')
    level = 'minimal' if args.minimal else 'full'
    flavour = 'with ops' if ops else 'without ops'
    print(f'[check_env] OK ({level}): ' +
          ', '.join(f'{k} {v}' for k, v in pins.items()) +
          f' (mmcv {flavour})')


if __name__ == '__main__':
    main()
