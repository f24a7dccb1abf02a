"""tools/analysis_tools/robustness.py: PGD maths and an end-to-end run."""
import argparse
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'analysis_tools' / 'robustness.py'
MAKE_TOY = ROOT / 'tools' / 'dataset_converters' / 'make_toy_scenes.py'
CONFIG = (ROOT / 'configs' / 'hypcon' /
          'hypcon-simclr_resnet18_1xb32-2e_toy-scenes.py')


def _load_tool():
    spec = importlib.util.spec_from_file_location('robustness_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def test_budgets_parse_as_fractions_or_numbers():
    assert tool.parse_budget('8/255') == pytest.approx(8 / 255)
    assert tool.parse_budget('0.03') == pytest.approx(0.03)
    for bad in ('abc', '1/0', '2'):
        with pytest.raises(argparse.ArgumentTypeError):
            tool.parse_budget(bad)


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
    x_adv = tool.pgd_attack(classify, x, y, eps, steps=20, generator=g)
    assert float((x_adv - x).abs().max()) <= eps + 1e-6
    assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1
    flipped = classify(x_adv).argmax(1) != y
    should = margin < eps * w.abs().sum()
    assert torch.equal(flipped, should)
    assert 0 < int(should.sum()) < len(should)  # both cases occur
    assert torch.equal(tool.pgd_attack(classify, x, y, 0.0), x)


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


def test_robustness_tool_end_to_end(toy, capsys):
    out_dir = toy / 'report'
    tool.main([
        str(CONFIG),
        str(toy / 'ckpt.pth'), '--data-root',
        str(toy / 'data'), '--ann-file', 'annotations/train.json',
        '--data-prefix', 'images/train', '--val-ann-file',
        'annotations/val.json', '--val-data-prefix', 'images/val',
        '--img-size', '32', '--epochs', '20', '--eps', '8/255', '0.25',
        '--steps', '5', '--out-dir',
        str(out_dir)
    ])
    printed = capsys.readouterr()
    stdout = printed.out
    assert 'clean accuracy' in stdout and 'robust @ eps 8/255' in stdout
    # mmengine's progress bar over the feature and the attack passes
    assert 'features: ' in printed.err and 'PGD: ' in printed.err
    assert len(re.findall(r'\] (\d+)/\1, ', printed.err)) == 2
    with open(out_dir / 'robustness.json') as f:
        report = json.load(f)
    assert report['num_classes'] == 10 and report['num_val'] > 0
    assert report['probe']['train_acc'] > report['clean_acc'] / 2
    clean = report['clean_acc']
    assert 0 < clean <= 100
    assert [a['eps_text'] for a in report['attacks']] == ['8/255', '1/4']
    for attack in report['attacks']:
        assert attack['steps'] == 5
        assert attack['step_size'] == pytest.approx(2.5 * attack['eps'] / 5)
        assert 0 <= attack['robust_acc'] <= clean
    # an eps of a quarter of the pixel range breaks a random network
    assert report['attacks'][1]['robust_acc'] < clean
    assert report['robust_acc'] == report['attacks'][0]['robust_acc']
    # the probe is stored as plain tensors
    state = torch.load(out_dir / 'probe.pth', weights_only=True)
    assert set(state) == {'mean', 'std', 'fc.weight', 'fc.bias'}


def test_robustness_tool_refuses_a_checkpoint_of_another_model(toy):
    bad = toy / 'bad.pth'
    torch.save(dict(state_dict={'backbone.conv1.weight': torch.zeros(1)}), bad)
    with pytest.raises(KeyError, match='lacks'):
        tool.main([
            str(CONFIG),
            str(bad), '--data-root',
            str(toy / 'data'), '--ann-file', 'annotations/train.json',
            '--out-dir',
            str(toy / 'bad_report')
        ])
