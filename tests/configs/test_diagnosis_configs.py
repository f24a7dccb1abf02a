"""The transfer diagnosis's fine-tuning configs load in a fresh process, as
the suite runs them, and every custom hook they name builds from mmseg's
registry (a hook of hclmm names hclmm's scope with ``_scope_``)."""
import glob
import json
import os.path as osp
import subprocess
import sys

from hclmm_test_utils import REPO

CONFIGS = sorted(
    glob.glob(f'{REPO}/projects/transfer_diagnosis/configs/fpn_*.py'))

BUILD = '''
import json, sys
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import HOOKS
built = {}
for path in sys.argv[1:]:
    cfg = Config.fromfile(path)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        built[path] = [type(HOOKS.build(h)).__name__
                       for h in cfg.get('custom_hooks', [])]
print(json.dumps(built))
'''


def test_fine_tuning_configs_build_their_hooks():
    assert len(CONFIGS) >= 8
    res = subprocess.run([sys.executable, '-c', BUILD, *CONFIGS],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    built = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(built) == set(CONFIGS)
    with_reestimation = sorted(osp.basename(p) for p, hooks in built.items()
                               if 'BNReestimationHook' in hooks)
    assert with_reestimation == [
        'fpn_r18_1xb8-250it_toy-scenes-128x128_bn-reest.py',
        'fpn_r18_1xb8-250it_toy-scenes-128x128_frozen-bn-reest.py']
