"""hclmm.apis' robustness probe: PGD maths and an end-to-end run of
tools/analysis_tools/robustness.py."""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hclmm import apis
from hclmm_test_utils import run_cli

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'analysis_tools' / 'robustness.py'
MAKE_TOY = ROOT / 'tools' / 'dataset_converters' / 'make_toy_scenes.py'
CONFIG = (ROOT / 'configs' / 'hypcon' /
          'hypcon-simclr_resnet18_1xb32-2e_toy-scenes.py')


def test_budgets_parse_as_fractions_or_numbers():
    assert apis.parse_budget('8/255') == pytest.approx(8 / 255)
    assert apis.parse_budget('0.03') == pytest.approx(0.03)
    for bad in ('abc', '1/0', '2'):
        with pytest.raises(argparse.ArgumentTypeError):
            apis.parse_budget(bad)


def test_pgd_finds_the_minimal_flip_of_a_linear_classifier():
    """Logits (w.x + b, 0): the L-inf attack lowers w.x by eps * |w|_1, so a
    sample with margin m is flipped exactly when eps > m / |w|_1."""
    w = torch.tensor([0.5, -1.0, 2.0, 0.25])
    b = -1.0

    def classify(x):
        score = x.flatten(1) @ w + b
        return torch.stack([score, torch.zeros_like(score)], 1)

    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 1, 2, 2, generator=g) * 0.6 + 0.2  # inside [0, 1]
    y = torch.zeros(64, dtype=torch.long)
    margin = x.flatten(1) @ w + b
    keep = margin > 0
    x, y, margin = x[keep], y[keep], margin[keep]
    eps = 0.1
    x_adv = apis.pgd_attack(classify, x, y, eps, steps=20, generator=g)
    assert float((x_adv - x).abs().max()) <= eps + 1e-6
    assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1
    flipped = classify(x_adv).argmax(1) != y
    should = margin < eps * w.abs().sum()
    assert torch.equal(flipped, should)
    assert 0 < int(should.sum()) < len(should)  # both cases occur
    assert torch.equal(apis.pgd_attack(classify, x, y, 0.0), x)


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    out = tmp_path_factory.mktemp('toy_robustness')
    subprocess.run([
        sys.executable,
        str(MAKE_TOY), '--out',
        str(out / 'data'), '--num-train', '40', '--num-val', '20', '--seed',
        '0'
    ],
                   check=True,
                   capture_output=True)
    # a (randomly initialised) pretraining checkpoint of the toy config
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from hclmm.registry import MODELS
    from hclmm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('hclmm'):
        model = MODELS.build(Config.fromfile(str(CONFIG)).model)
    torch.save(dict(state_dict=model.state_dict(), meta={}), out / 'ckpt.pth')
    return out


def test_robustness_tool_end_to_end(toy):
    """The probe is trained by the transfer suite's linear-probe config
    through mmengine's Runner, then attacked on that config's val crops."""
    out_dir = toy / 'report'
    proc = run_cli([
        sys.executable,
        str(TOOL),
        str(CONFIG),
        str(toy / 'ckpt.pth'), '--data-root',
        str(toy / 'data'), '--eps', '8/255', '0.25', '--steps', '5',
        '--out-dir',
        str(out_dir), '--cfg-options', 'train_dataloader.num_workers=0',
        'val_dataloader.num_workers=0', 'train_cfg.max_iters=30',
        'train_cfg.val_interval=30', 'default_hooks.logger.interval=10'
    ])
    stdout = proc.stdout
    assert 'clean accuracy' in stdout and 'robust @ eps 8/255' in stdout
    # the overrides are printed; the Runner logged its training steps
    assert 'train_dataloader.dataset.data_root=' in stdout
    assert 'Iter(train) [30/30]' in stdout + proc.stderr
    # mmengine's progress bar over the attack pass
    assert 'PGD: ' in proc.stderr
    assert len(re.findall(r'\] (\d+)/\1, ', proc.stderr)) == 1
    with open(out_dir / 'robustness.json') as f:
        report = json.load(f)
    assert report['num_classes'] == 10 and report['num_val'] > 0
    clean = report['clean_acc']
    assert 0 < clean <= 100
    # the Runner's own validation (mmengine's scalars.json) of the probe
    # saw the same crops and the same predictions as the attack's clean pass
    assert report['probe']['val_acc'] == pytest.approx(clean)
    assert [a['eps_text'] for a in report['attacks']] == ['8/255', '1/4']
    for attack in report['attacks']:
        assert attack['steps'] == 5
        assert attack['step_size'] == pytest.approx(2.5 * attack['eps'] / 5)
        assert 0 <= attack['robust_acc'] <= clean
    # an eps of a quarter of the pixel range breaks a random network
    assert report['attacks'][1]['robust_acc'] < clean
    assert report['robust_acc'] == report['attacks'][0]['robust_acc']
    # the probe head is stored as plain tensors, and loads back
    state = torch.load(out_dir / 'probe.pth', weights_only=True)
    assert set(state) == {'fc.weight', 'fc.bias'}
    again = apis.robustness_report(
        str(CONFIG), str(toy / 'ckpt.pth'), str(toy / 'again'), [8 / 255],
        steps=5, probe=str(out_dir / 'probe.pth'),
        data=dict(data_root=str(toy / 'data')),
        cfg_options={'val_dataloader.num_workers': 0})
    assert again['clean_acc'] == pytest.approx(clean)
    assert again['probe']['loaded_from'] == str(out_dir / 'probe.pth')


def test_robustness_tool_refuses_a_checkpoint_of_another_model(toy):
    bad = toy / 'bad.pth'
    torch.save(dict(state_dict={'backbone.conv1.weight': torch.zeros(1)}), bad)
    with pytest.raises(KeyError, match='lacks'):
        apis.robustness_report(
            str(CONFIG), str(bad), str(toy / 'bad_report'), [8 / 255],
            data=dict(data_root=str(toy / 'data')))
    # a pretraining config whose backbone is not the probe config's
    r50 = ROOT / 'configs' / 'hcl' / 'mocov2_resnet50_8xb16-coslr-200e_coco.py'
    with pytest.raises(ValueError, match='--probe-config'):
        apis.robustness_report(str(r50), str(bad), str(toy / 'bad_report'),
                               [8 / 255])
