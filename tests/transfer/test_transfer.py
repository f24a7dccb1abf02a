"""Transfer of a pretrained backbone: extract it, then detect, segment, probe.

One tiny HCL pretraining run on generated toy scenes gives the checkpoint;
every downstream model built from the benchmark configs must hold exactly its
online backbone after initialisation (a strict=False load that matched
nothing fails here), and a few training iterations must give finite losses.
"""
import argparse
import importlib.util
import json
import math
import os
import os.path as osp
import shlex
import sys

import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import hclmm  # noqa: F401  (raw mmengine checkpoints load weights-only)

from hclmm_test_utils import REPO, run_cli

BENCH = osp.join(REPO, 'configs', 'benchmarks')
DET = osp.join(BENCH, 'mmdetection')
SEG = osp.join(BENCH, 'mmsegmentation')
CLS = osp.join(BENCH, 'classification')
EXTRACT = osp.join(REPO, 'tools', 'model_converters',
                   'extract_backbone_weights.py')
IMG = 64  # training resolution of the downstream runs


def _load_tool(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    gen = _load_tool(
        osp.join(REPO, 'tools', 'dataset_converters', 'make_toy_scenes.py'),
        'make_toy_scenes')
    root = tmp_path_factory.mktemp('toy_scenes')
    gen.make_toy_scenes(str(root), num_train=4, num_val=2, seed=0,
                        img_size=96)
    return str(root)


@pytest.fixture(scope='module')
def pretrain_ckpt(toy_root, tmp_path_factory):
    """A real hclmm checkpoint: HCL-MoCo v2 R18, 2 iterations of 2 images."""
    work_dir = tmp_path_factory.mktemp('pretrain')
    run_cli([
        sys.executable, 'tools/train.py',
        'configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py', '--work-dir',
        str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={toy_root}',
        f'val_dataloader.dataset.data_root={toy_root}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'train_cfg.max_epochs=1',
        'param_scheduler=[]',  # the cosine begins after epoch 1
        'default_hooks.checkpoint.interval=1', 'randomness.seed=0'
    ])
    ckpt = work_dir / 'epoch_1.pth'
    assert ckpt.is_file(), os.listdir(work_dir)
    return str(ckpt)


@pytest.fixture(scope='module')
def raw_state(pretrain_ckpt):
    return torch.load(pretrain_ckpt, map_location='cpu',
                      weights_only=True)['state_dict']


@pytest.fixture(scope='module')
def backbone_file(pretrain_ckpt, tmp_path_factory):
    out = tmp_path_factory.mktemp('extracted') / 'backbone.pth'
    proc = run_cli([sys.executable, EXTRACT, pretrain_ckpt, str(out)])
    assert f'Wrote {out}' in proc.stdout
    return str(out)


@pytest.fixture(scope='module')
def backbone_state(backbone_file):
    return torch.load(backbone_file, map_location='cpu',
                      weights_only=True)['state_dict']


# ---------------------------------------------------------------- helpers
def assert_holds(module, state, what):
    """Every tensor of ``module`` equals the one of the same name in state."""
    own = module.state_dict()
    assert own, f'{what} has no tensors'
    missing = [k for k in own if k not in state]
    assert not missing, f'{what}: not in the checkpoint: {missing[:5]}'
    differ = [k for k, v in own.items() if not torch.equal(v, state[k])]
    assert not differ, f'{what}: differs from the checkpoint: {differ[:5]}'
    return len(own)


def script_cfg_options(script, config, pretrain):
    """The `--cfg-options` a launch script passes, from a dry run."""
    env = dict(DRY_RUN='1', NO_MIM='1', PYTHON=sys.executable)
    proc = run_cli(['bash', script, config, pretrain, '1'], env=env)
    argv = shlex.split(proc.stdout.strip().splitlines()[-1])
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--work-dir')
    start = argv.index('--work-dir')
    args, _ = parser.parse_known_args(argv[start:])
    return argv, args.work_dir, args.cfg_options


def _entry(argv):
    """The training script a dry run would start, relative to site-packages."""
    script = next(a for a in argv if a.endswith('train.py'))
    return osp.join(*script.split(os.sep)[-4:])


class Recorder(Hook):
    """Checks the model right after weight initialisation; keeps losses."""
    priority = 'VERY_LOW'

    def __init__(self, check):
        self.check = check
        self.checked = 0
        self.losses = []

    def before_train(self, runner):
        self.checked = self.check(runner.model)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.losses.append({k: float(v) for k, v in outputs.items()})


def _quiet(cfg, work_dir):
    cfg.work_dir = str(work_dir)
    cfg.launcher = 'none'
    cfg.randomness = dict(seed=0)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    loader = cfg.train_dataloader
    loader.num_workers = 0
    loader.persistent_workers = False
    return cfg


def _train(cfg, check):
    runner = Runner.from_cfg(cfg)
    recorder = Recorder(check)
    runner.register_hook(recorder, priority='VERY_LOW')
    runner.train()
    assert recorder.checked > 0
    assert len(recorder.losses) == 2, recorder.losses
    for step in recorder.losses:
        assert step and all(math.isfinite(v) for v in step.values()), step
    return runner, recorder


# ----------------------------------------------------------- extraction
def test_extracted_file_is_the_online_backbone(raw_state, backbone_state,
                                               backbone_file):
    online = {k[len('backbone.'):]: v for k, v in raw_state.items()
              if k.startswith('backbone.')}
    assert any(k.startswith('encoder_k.') for k in raw_state)
    assert any(k.startswith('hyp_head.') for k in raw_state)
    assert set(backbone_state) == set(online)
    assert all(torch.equal(backbone_state[k], v) for k, v in online.items())
    # two SGD steps moved the online encoder away from the momentum one, so
    # the comparison above really tells the two apart
    momentum = {k[len('encoder_k.module.0.'):]: v
                for k, v in raw_state.items()
                if k.startswith('encoder_k.module.0.')}
    assert set(momentum) == set(online)
    assert any(not torch.equal(momentum[k], v) for k, v in online.items())
    # tensors only: loads weights-only in a process that never imports hclmm
    proc = run_cli([
        sys.executable, '-c',
        'import sys, torch; c = torch.load(sys.argv[1], weights_only=True); '
        'print(len(c["state_dict"]), "hclmm" in sys.modules)', backbone_file
    ])
    assert proc.stdout.split() == [str(len(online)), 'False']


def test_extract_rejects_files_without_backbone(tmp_path, backbone_state):
    bogus = tmp_path / 'heads.pth'
    torch.save({'state_dict': {'neck.fc.weight': torch.zeros(2),
                               'head.fc.bias': torch.zeros(2)}}, bogus)
    proc = run_cli([sys.executable, EXTRACT, str(bogus),
                    str(tmp_path / 'out.pth')], check=False)
    assert proc.returncode != 0
    assert f'"{bogus}"' in proc.stderr
    assert 'top-level prefixes seen: neck, head' in proc.stderr
    assert not (tmp_path / 'out.pth').exists()
    tool = _load_tool(EXTRACT, 'extract_backbone_weights')
    # an already extracted file is recognised as such
    with pytest.raises(ValueError, match='without a prefix'):
        tool.extract_backbone(backbone_state, source='backbone.pth')
    # the momentum encoder is never what gets extracted
    with pytest.raises(ValueError, match='momentum'):
        tool.extract_backbone({'encoder_k.module.0.conv1.weight': 0},
                              prefix='encoder_k.module.0')


# ------------------------------------------------------------ detection
def test_mask_rcnn_fpn_from_extracted_backbone(toy_root, backbone_file,
                                               backbone_state, tmp_path):
    cfg = Config.fromfile(
        osp.join(DET, 'toy_scenes', 'mask-rcnn_r18_fpn_1xb4-6e_toy-scenes.py'))
    cfg.model.backbone.init_cfg.checkpoint = backbone_file
    ds = cfg.train_dataloader.dataset
    ds.data_root = toy_root
    ds.pipeline[2].scales = [(1333, IMG)]
    cfg.model.train_cfg.rcnn.sampler.num = 16
    cfg.train_dataloader.batch_size = 2  # 4 images: 2 iterations
    cfg.train_cfg.max_epochs = 1
    _quiet(cfg, tmp_path)

    def check(model):
        return assert_holds(model.backbone, backbone_state, 'Mask R-CNN')

    _, rec = _train(cfg, check)
    assert rec.checked == len(backbone_state)
    assert {'loss_rpn_cls', 'loss_cls', 'loss_mask'} <= set(rec.losses[0])


def test_raw_checkpoint_loads_with_prefix(raw_state, pretrain_ckpt,
                                          backbone_state):
    """`prefix='backbone.'` on the pretraining checkpoint itself works too."""
    cfg = Config.fromfile(
        osp.join(DET, 'toy_scenes', 'mask-rcnn_r18_fpn_1xb4-6e_toy-scenes.py'))
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=pretrain_ckpt, prefix='backbone.')
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert assert_holds(model.backbone, backbone_state, 'backbone') == \
        len(backbone_state)


@pytest.mark.parametrize('config', [
    'coco/mask-rcnn_r50-c4_ms-1x_coco.py',
    'voc0712/faster-rcnn_r50-c4_ms-24k_voc0712.py'
])
def test_c4_script_initialises_backbone_and_shared_head(
        config, backbone_file, backbone_state):
    config = osp.join(DET, config)
    argv, work_dir, options = script_cfg_options(
        osp.join(REPO, 'tools', 'benchmarks', 'mmdetection',
                 'mim_dist_train_c4.sh'), config, backbone_file)
    assert argv[1:4] == ['-m', 'torch.distributed.run', '--nnodes=1']
    assert _entry(argv) == osp.join('mmdet', '.mim', 'tools', 'train.py')
    name = osp.splitext(osp.basename(config))[0]
    assert work_dir == f'work_dirs/benchmarks/mmdetection/{name}'
    assert options['model.roi_head.shared_head.init_cfg.prefix'] is None

    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    # the toy checkpoint is a ResNet-18: same key layout, smaller blocks
    cfg.model.backbone.depth = 18
    cfg.model.roi_head.shared_head.depth = 18
    assert cfg.model.backbone.style == 'pytorch'
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    head = model.roi_head.shared_head
    assert [n for n, _ in head.named_children()] == ['layer4']
    n_backbone = assert_holds(model.backbone, backbone_state, 'backbone')
    n_head = assert_holds(head, backbone_state, 'shared head')
    assert n_backbone + n_head == len(backbone_state)


def test_launch_script_prefix_for_raw_and_bogus_files(pretrain_ckpt,
                                                      tmp_path):
    script = osp.join(REPO, 'tools', 'benchmarks', 'mmdetection',
                      'mim_dist_train_fpn.sh')
    config = osp.join(DET, 'coco', 'mask-rcnn_r50_fpn_ms-1x_coco.py')
    _, _, options = script_cfg_options(script, config, pretrain_ckpt)
    assert options['model.backbone.init_cfg.prefix'] == 'backbone.'
    assert options['model.backbone.init_cfg.checkpoint'] == pretrain_ckpt
    bogus = tmp_path / 'bogus.pth'
    torch.save({'state_dict': {'head.fc.weight': torch.zeros(1)}}, bogus)
    proc = run_cli(['bash', script, config, str(bogus), '1'],
                   env=dict(DRY_RUN='1', NO_MIM='1', PYTHON=sys.executable),
                   check=False)
    assert proc.returncode != 0
    assert 'top-level prefixes seen: head' in proc.stderr
    assert 'torch.distributed.run' not in proc.stdout


def test_slurm_and_mim_launch_lines(backbone_file, tmp_path):
    """Slurm without mim composes srun; with mim, `mim train` gets the job."""
    config = osp.join(SEG, 'voc12aug',
                      'fcn_r50-d8_4xb4-20k_voc12aug-512x512.py')
    env = dict(DRY_RUN='1', NO_MIM='1', PYTHON=sys.executable,
               SRUN_ARGS='--quotatype=auto')
    proc = run_cli([
        'bash',
        osp.join(REPO, 'tools', 'benchmarks', 'mmsegmentation',
                 'mim_slurm_train.sh'), 'gpu-part', config, backbone_file,
        '--seed', '0'
    ], env=env)
    argv = shlex.split(proc.stdout.strip().splitlines()[-1])
    assert argv[:3] == ['srun', '-p', 'gpu-part']
    for flag in ('--gres=gpu:4', '--ntasks=4', '--ntasks-per-node=4',
                 '--kill-on-bad-exit=1', '--quotatype=auto'):
        assert flag in argv, (flag, argv)
    assert _entry(argv) == osp.join('mmseg', '.mim', 'tools', 'train.py')
    assert argv[argv.index('--launcher') + 1] == 'slurm'
    assert f'model.backbone.init_cfg.checkpoint={backbone_file}' in argv
    assert argv[-2:] == ['--seed', '0']

    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'mim').write_text('#!/bin/sh\nexit 0\n')
    (bin_dir / 'mim').chmod(0o755)
    env = dict(DRY_RUN='1', PYTHON=sys.executable,
               PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}')
    proc = run_cli([
        'bash',
        osp.join(REPO, 'tools', 'benchmarks', 'mmsegmentation',
                 'mim_dist_train.sh'), config, backbone_file, '8'
    ], env=env)
    argv = shlex.split(proc.stdout.strip().splitlines()[-1])
    assert argv[:9] == [
        'mim', 'train', 'mmseg', config, '--launcher', 'pytorch', '--gpus',
        '8', '--work-dir'
    ]
    assert 'model.pretrained=None' in argv


# --------------------------------------------------------- segmentation
@pytest.mark.parametrize('config', [
    'voc12aug/fcn_r50-d8_4xb4-20k_voc12aug-512x512.py',
    'ade20k/upernet_r50_4xb4-160k_ade20k-512x512.py'
])
def test_segmentation_configs_load_every_backbone_key(
        config, backbone_file, backbone_state):
    """The GPU-scale configs, through the launch script's options."""
    argv, _, options = script_cfg_options(
        osp.join(REPO, 'tools', 'benchmarks', 'mmsegmentation',
                 'mim_dist_train.sh'), osp.join(SEG, config), backbone_file)
    assert _entry(argv) == osp.join('mmseg', '.mim', 'tools', 'train.py')
    assert options['model.pretrained'] is None
    cfg = Config.fromfile(osp.join(SEG, config))
    cfg.merge_from_dict(options)
    cfg.model.backbone.depth = 18
    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert type(model.backbone).__name__ == 'ResNet'
    assert assert_holds(model.backbone, backbone_state,
                        'backbone') == len(backbone_state)

    # the library's own base (ResNetV1c, deep stem) would leave the stem
    # random: the check above is what catches that
    cfg.model.backbone.type = 'ResNetV1c'
    cfg.model.backbone.pop('deep_stem')
    v1c = MODELS.build(cfg.model.backbone)
    v1c.init_weights()
    with pytest.raises(AssertionError, match='not in the checkpoint'):
        assert_holds(v1c, backbone_state, 'ResNetV1c')


def _seg_toy(name, toy_root, backbone_file, tmp_path):
    cfg = Config.fromfile(osp.join(SEG, 'toy_scenes', name))
    cfg.model.backbone.init_cfg.checkpoint = backbone_file
    cfg.model.data_preprocessor.size = (IMG, IMG)
    ds = cfg.train_dataloader.dataset
    ds.data_root = toy_root
    ds.pipeline[2].scale = (IMG, IMG)
    ds.pipeline[3].crop_size = (IMG, IMG)
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.max_iters = 2
    return _quiet(cfg, tmp_path)


@pytest.mark.parametrize(
    'name', ['fcn_r18-d8_1xb4-2000it_toy-scenes-128x128.py',
             'upernet_r18_1xb4-2000it_toy-scenes-128x128.py'])
def test_segmentation_toy_runs_from_extracted_backbone(
        name, toy_root, backbone_file, backbone_state, tmp_path):
    cfg = _seg_toy(name, toy_root, backbone_file, tmp_path)

    def check(model):
        return assert_holds(model.backbone, backbone_state, name)

    _, rec = _train(cfg, check)
    assert rec.checked == len(backbone_state)
    assert 'decode.loss_ce' in rec.losses[0]


# ------------------------------------------------------- classification
def test_linear_probe_keeps_the_backbone_frozen(toy_root, backbone_file,
                                                backbone_state, tmp_path):
    name = 'resnet18_linear-1xb32-steplr-10e_toy-scenes'
    config = osp.join(CLS, 'toy_scenes', f'{name}.py')
    argv, work_dir, options = script_cfg_options(
        osp.join(REPO, 'tools', 'benchmarks', 'classification',
                 'mim_dist_train.sh'), config, backbone_file)
    assert _entry(argv) == osp.join('mmpretrain', '.mim', 'tools', 'train.py')
    assert work_dir == f'work_dirs/benchmarks/classification/{name}'
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    assert cfg.optim_wrapper.optimizer.lr == 30
    assert cfg.optim_wrapper.optimizer.weight_decay == 0
    assert cfg.model.backbone.frozen_stages == 4
    ds = cfg.train_dataloader.dataset
    ds.data_root = toy_root
    ds.indices = 4  # 4 object crops, batches of 2: 2 iterations
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.max_epochs = 1
    _quiet(cfg, tmp_path)
    init = {}

    def check(model):
        init.update({k: v.clone() for k, v in model.head.state_dict().items()})
        return assert_holds(model.backbone, backbone_state, 'linear probe')

    runner, rec = _train(cfg, check)
    assert rec.checked == len(backbone_state)
    # frozen: weights and BN statistics unchanged; the classifier learned
    assert_holds(runner.model.backbone, backbone_state, 'after training')
    head = runner.model.head.state_dict()
    assert any(not torch.equal(init[k], head[k]) for k in init)


def test_knn_scores_match_a_naive_vote():
    from hclmm import apis as tool
    gen = torch.Generator().manual_seed(0)
    train = torch.randn(30, 8, generator=gen)
    labels = torch.randint(0, 4, (30, ), generator=gen)
    query = torch.randn(7, 8, generator=gen)
    for k, t in ((1, 0.07), (5, 0.5), (50, 1.0)):
        scores = tool.knn_scores(train, labels, query, 4, k=k,
                                 temperature=t, chunk_size=3)
        tn = train / train.norm(dim=1, keepdim=True)
        for q in range(7):
            qn = query[q] / query[q].norm()
            sims = sorted(((float(tn[j] @ qn), int(labels[j]))
                           for j in range(30)), reverse=True)[:min(k, 30)]
            ref = [0.0] * 4
            for s, c in sims:
                ref[c] += math.exp(s / t)
            assert scores[q].tolist() == pytest.approx(ref, rel=1e-4)
    acc = tool.knn_accuracy(torch.tensor([[0., 2, 1], [3, 1, 2]]),
                            torch.tensor([1, 2]), topk=(1, 2))
    assert acc == {'top1': 50.0, 'top2': 100.0}


def test_knn_eval_tool_on_toy_crops(toy_root, backbone_file, tmp_path,
                                    monkeypatch, capsys):
    from hclmm.apis import knn_eval
    config = osp.join(CLS, 'toy_scenes',
                      'resnet18_knn-k20-t0.07_toy-scenes.py')
    knn_eval(config, checkpoint=backbone_file, work_dir=str(tmp_path),
             batch_size=4, cfg_options={
                 'train_dataloader.dataset.data_root': toy_root,
                 'val_dataloader.dataset.data_root': toy_root,
                 'train_dataloader.num_workers': 0,
                 'val_dataloader.num_workers': 0})
    with open(tmp_path / 'knn_k20_t0.07.json') as f:
        result = json.load(f)
    from hclmm.datasets import ObjectCropDataset
    num_val = len(ObjectCropDataset(
        data_root=toy_root, ann_file='annotations/val.json',
        data_prefix=dict(img='images/val/'), min_box_size=12))
    assert result['num_val'] == num_val > 0
    assert result['num_classes'] == 10
    assert 0 <= result['top1'] <= result['top5'] <= 100
    assert 'kNN (k=20, T=0.07): top-1' in capsys.readouterr().out


def test_suite_knn_task_end_to_end(toy_root, pretrain_ckpt, backbone_file,
                                   tmp_path, capsys):
    """The suite's ``knn`` task: its kNN runs give knn_eval.py's
    own number for the extracted backbone, the same for every seed of a
    pretrained init, and run again once the checkpoint is newer."""
    from hclmm.apis import run_transfer
    work = tmp_path / 'suite'
    options = dict(
        tasks=['knn'], data_root=toy_root, seeds=[0, 1],
        cfg_options=['train_dataloader.num_workers=0',
                     'val_dataloader.num_workers=0'],
        vis_backends=['local', 'tensorboard'])
    inits = [f'hcl={pretrain_ckpt}', 'random']
    _, failures, _ = run_transfer(str(work), inits, **options)
    assert failures == []
    table = json.loads((work / 'transfer.json').read_text())['knn']
    hcl, rand = table['hcl'], table['random']
    # the table through mmengine's backends: the figure and the means
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    import mmcv
    vis_dir = work / 'vis_data'
    scalars = json.loads((vis_dir / 'scalars.json').read_text())
    assert scalars['transfer/knn/hcl'] == pytest.approx(hcl['mean'])
    assert scalars['transfer/knn/random'] == pytest.approx(rand['mean'])
    events = EventAccumulator(str(vis_dir), size_guidance={'images': 0})
    events.Reload()
    image, = events.Images('transfer')
    shown = mmcv.imfrombytes(image.encoded_image_string, channel_order='rgb')
    png = mmcv.imread(str(work / 'transfer.png'), channel_order='rgb')
    assert shown.shape == png.shape and (shown == png).all()
    tb_mean, = events.Scalars('transfer/knn/hcl')
    assert tb_mean.value == pytest.approx(hcl['mean'], abs=1e-4)
    assert hcl['metric'] == rand['metric'] == 'knn/top1'
    assert set(hcl['seeds']) == set(rand['seeds']) == {'0', '1'}
    # no training: a pretrained init gives one number whatever the seed
    assert hcl['seeds']['0'] == hcl['seeds']['1'] and hcl['std'] == 0
    for value in list(hcl['seeds'].values()) + list(rand['seeds'].values()):
        assert 0 <= value <= 100
    random_runs = [
        json.loads(next((work / 'runs' / 'knn' / 'random' /
                         f'seed{s}').glob('knn_*.json')).read_text())
        for s in (0, 1)
    ]
    assert [r['seed'] for r in random_runs] == [0, 1]
    assert all(r['checkpoint'] is None for r in random_runs)

    # the same number from the tool on the backbone extracted by hand
    direct = tmp_path / 'direct'
    run_cli([
        sys.executable,
        osp.join(REPO, 'tools', 'benchmarks', 'classification',
                 'knn_eval.py'),
        osp.join(CLS, 'toy_scenes', 'resnet18_knn-k20-t0.07_toy-scenes.py'),
        '--checkpoint', backbone_file, '--work-dir', str(direct),
        '--cfg-options', f'train_dataloader.dataset.data_root={toy_root}',
        f'val_dataloader.dataset.data_root={toy_root}',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0'
    ])
    by_hand = json.loads((direct / 'knn_k20_t0.07.json').read_text())
    assert by_hand['top1'] == pytest.approx(hcl['seeds']['0'])

    # a newer checkpoint: its runs start again, random init's are read back
    capsys.readouterr()
    later = os.path.getmtime(work / 'backbones' / 'hcl.pth') + 5
    new_ckpt = tmp_path / 'newer.pth'
    new_ckpt.write_bytes(open(pretrain_ckpt, 'rb').read())
    os.utime(new_ckpt, (later + 100, later + 100))
    run_transfer(str(work), [f'hcl={new_ckpt}', 'random'], **options)
    out = capsys.readouterr().out
    for seed in (0, 1):
        assert f'knn / hcl / seed {seed}: {work}/runs/knn/hcl/seed{seed} ' \
            'is from an earlier checkpoint of hcl' in out
        assert f'knn / random / seed {seed}: finished before' in out
    again = json.loads((work / 'transfer.json').read_text())['knn']['hcl']
    assert again['seeds'] == hcl['seeds']  # same weights, same number


def test_suite_label_fraction_same_steps_fewer_images(pretrain_ckpt,
                                                      tmp_path):
    """``--label-fraction 1 0.5``: the fraction's runs train on the
    stratified subset written for their seed, for as many steps as the
    full-label runs, and the json keeps both fractions."""
    from hclmm.apis import run_transfer
    gen = _load_tool(
        osp.join(REPO, 'tools', 'dataset_converters', 'make_toy_scenes.py'),
        'make_toy_scenes_fractions')
    toy_root = str(tmp_path / 'toy')
    # 24 scenes: more than one per stratum (rarest class), so half of them
    # is a strict subset
    gen.make_toy_scenes(toy_root, num_train=24, num_val=2, seed=0,
                        img_size=64)
    work = tmp_path / 'suite'
    run_transfer(
        str(work), [f'hcl={pretrain_ckpt}'], ['linear'],
        label_fractions=[1, 0.5], data_root=toy_root, seeds=[0],
        cfg_options=['train_cfg.max_iters=3', 'train_cfg.val_interval=3',
                     'train_dataloader.batch_size=2',
                     'train_dataloader.num_workers=0',
                     'val_dataloader.num_workers=0'])
    subset = json.loads((work / 'labels' / 'train_0.5_seed0.json').read_text())
    full = json.loads(open(osp.join(toy_root, 'annotations',
                                    'train.json')).read())
    assert 0 < len(subset['images']) < len(full['images'])

    def last_checkpoint(run):
        """The training's last checkpoint, named by its iteration."""
        return osp.basename((run / 'last_checkpoint').read_text().strip())

    runs = work / 'runs' / 'linear' / 'hcl'
    assert last_checkpoint(runs / 'seed0') == last_checkpoint(
        runs / 'fraction0.5' / 'seed0') == 'iter_3.pth'
    assert 'train_0.5_seed0.json' in (runs / 'fraction0.5' / 'seed0' /
                                      'train.log').read_text()
    cell = json.loads((work / 'transfer.json').read_text())['linear']['hcl']
    assert cell['label_fraction'] == 1.0
    assert set(cell['fractions']) == {'1', '0.5'}
    assert (work / 'label_efficiency.png').is_file()
    assert 'label_efficiency/linear/hcl/0.5' in json.loads(
        (work / 'vis_data' / 'scalars.json').read_text())
    # the cell holds what tools/test.py wrote for the last checkpoint: the
    # number of the training's own last validation
    tested = json.loads((runs / 'seed0' / 'metrics.json').read_text())
    assert cell['seeds']['0'] == tested['accuracy/top1']
    train_log = sorted((runs / 'seed0').glob('*/vis_data/*_*.json'))[0]
    logged = [json.loads(line) for line in open(train_log)]
    last_val = [r for r in logged if 'accuracy/top1' in r][-1]
    assert last_val['accuracy/top1'] == pytest.approx(tested['accuracy/top1'])
