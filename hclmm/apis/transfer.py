"""The transfer suite: pretrained backbones (and random init) through
detection, segmentation, the linear probe and kNN classification, with the
libraries' own metrics.

For every named pretraining checkpoint the suite extracts the online backbone
(``tools/model_converters/extract_backbone_weights.py``), then trains each
task config once per init and seed through ``tools/train.py`` (one process)
or ``tools/dist_train.sh`` (``gpus`` > 1) and evaluates the last checkpoint
with ``tools/test.py --out FILE --out-item metrics`` (``tools/dist_test.sh``
with several GPUs); the run's metrics are that file. The ``knn`` task trains
nothing: ``tools/benchmarks/classification/knn_eval.py`` classifies the val
samples by their nearest train samples in the frozen backbone's features and
writes its json, which holds the run's metrics.

Steps, each a function: :func:`prepare` checks the inputs and writes the
child configs (:func:`write_child_config`, through mmengine's ``Config``) and
the label subsets; :func:`plan_runs` lists the (task, init, fraction, seed)
runs; :func:`run_one` runs one; :func:`summarise`, :func:`markdown` and
:func:`label_efficiency_lines` make the json and the tables;
:func:`send_to_visualizer` draws the figures and hands them with the means to
mmengine's visualizer backends. :func:`run_transfer` does all of it.

``transfer.json``::

    {task: {init: {"metric": NAME, "seeds": {seed: value},
                   "mean": value, "std": value, "label_fraction": F}}}

with ``fractions`` (every labelled fraction's cell) when several fractions
ran. ``std`` is the sample standard deviation over the seeds (null for one
seed).
"""
import json
import os
import os.path as osp
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import OrderedDict, namedtuple

import mmengine
from mmengine.config import Config


def _root():
    """The folder with the package's ``configs/`` and ``tools/``: the
    source checkout, or else the installed package's ``.mim``."""
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    checkout = osp.dirname(package)
    return checkout if osp.isdir(osp.join(checkout, 'tools')) else \
        osp.join(package, '.mim')


REPO = _root()
BENCH = osp.join(REPO, 'configs', 'benchmarks')

# A task: its default config, the metric keys in order of preference, the
# library, and the runner: ``train`` trains the config through
# tools/train.py and tests its last checkpoint; ``knn`` classifies the val
# set by the kNN of the frozen backbone's features
# (tools/benchmarks/classification/knn_eval.py, no training: the seed
# matters for random init only).
Task = namedtuple('Task', 'config metrics library runner')
TASKS = OrderedDict(
    det=Task(
        osp.join(BENCH, 'mmdetection', 'toy_scenes',
                 'faster-rcnn_r18_fpn_1xb8-200it_toy-scenes.py'),
        ('coco/bbox_mAP', 'pascal_voc/mAP'), 'mmdet', 'train'),
    seg=Task(
        osp.join(BENCH, 'mmsegmentation', 'toy_scenes',
                 'fpn_r18_1xb8-250it_toy-scenes-128x128.py'), ('mIoU', ),
        'mmseg', 'train'),
    linear=Task(
        osp.join(BENCH, 'classification', 'toy_scenes',
                 'resnet18_linear-1xb32-500it_toy-scenes.py'),
        ('accuracy/top1', ), 'mmpretrain', 'train'),
    knn=Task(
        osp.join(BENCH, 'classification', 'toy_scenes',
                 'resnet18_knn-k20-t0.07_toy-scenes.py'), ('knn/top1', ),
        'mmpretrain', 'knn'),
)
RANDOM = 'random'
SEG_DATASET = 'CocoSemanticSegDataset'
SEG_MODULE = 'hclmm.transfer.coco_semantic_seg'
VIS_BACKENDS = dict(local='LocalVisBackend',
                    tensorboard='TensorboardVisBackend')
#: The file in a run's folder with the metrics of its last checkpoint.
METRICS_FILE = 'metrics.json'

__all__ = [
    'TASKS', 'RANDOM', 'VIS_BACKENDS', 'SuiteError', 'parse_pretrained',
    'resolve_split', 'pretrained_init_paths', 'data_overrides',
    'init_overrides', 'write_child_config', 'prepare', 'plan_runs',
    'run_dir_of', 'run_one', 'read_metrics', 'summarise', 'markdown',
    'label_efficiency_lines', 'send_to_visualizer', 'write_outputs',
    'run_transfer'
]


class SuiteError(RuntimeError):
    """A problem with the suite's inputs; the message says what to change."""


def log(msg):
    print(f'[transfer] {msg}', flush=True)


# ------------------------------------------------------------------ inputs
def parse_pretrained(specs):
    """``['hcl=a.pth', 'random']`` -> ``OrderedDict(hcl='a.pth', random=None)``.
    """
    inits = OrderedDict()
    for spec in specs:
        if spec == RANDOM:
            name, path = RANDOM, None
        elif '=' in spec:
            name, path = spec.split('=', 1)
            if not re.fullmatch(r'[A-Za-z0-9_.-]+', name) or name == RANDOM:
                raise SuiteError(
                    f'--pretrained {spec}: the name "{name}" must be letters, '
                    f'digits, "_", "-" or "." and not "{RANDOM}"')
            if not osp.isfile(path):
                raise SuiteError(f'--pretrained {spec}: no file {path}')
        else:
            raise SuiteError(
                f'--pretrained {spec}: write NAME=CHECKPOINT (a pretraining '
                f'checkpoint from tools/train.py) or "{RANDOM}"')
        if name in inits:
            raise SuiteError(f'--pretrained names "{name}" twice')
        inits[name] = path
    return inits


def _find_dir(root, prefix, rel_path, what, ann_file):
    """The folder under ``root/prefix`` that holds ``rel_path``: the prefix
    itself or exactly one of its subfolders."""
    base = osp.join(root, prefix)
    if osp.isfile(osp.join(base, rel_path)):
        return prefix
    subs = sorted(d for d in os.listdir(base)
                  if osp.isfile(osp.join(base, d, rel_path))) \
        if osp.isdir(base) else []
    if len(subs) == 1:
        return osp.join(prefix, subs[0], '')
    where = f'{base} or one of its subfolders' if not subs else \
        f'{base} (several subfolders hold it: {", ".join(subs)})'
    raise SuiteError(
        f'{ann_file}: the {what} of images[0] ({rel_path}) is not found '
        f'unambiguously in {where}; check --data-root and the prefix option')


def _missing(path, files, folder, what, hint=''):
    """Raise when some of ``files`` are not in ``folder``."""
    missing = [n for n in files if not osp.isfile(osp.join(folder, n))]
    if missing:
        raise SuiteError(
            f'{path}: {len(missing)} of {len(files)} {what} are missing '
            f'under {folder} (first: {missing[0]}){hint}')


def resolve_split(data_root, ann_file, img_prefix, seg_prefix):
    """Read one split's json and find its image (and label-map) folders.

    Returns:
        dict: ``ann_file``, ``img_prefix``, ``seg_prefix`` (None when not
        asked for), ``classes`` (category names sorted by id) and
        ``num_images``.
    """
    from hclmm.datasets.scene_object_coco import load_coco_json
    path = osp.join(data_root, ann_file)
    try:
        coco = load_coco_json(path)
    except (FileNotFoundError, ValueError) as e:
        raise SuiteError(str(e)) from None
    names = [im.get('file_name') for im in coco['images']]
    bad = [i for i, n in enumerate(names) if not isinstance(n, str)]
    if bad:
        raise SuiteError(f'{path}: images[{bad[0]}] has no "file_name"')
    img_dir = _find_dir(data_root, img_prefix, names[0], 'image', path)
    _missing(path, names, osp.join(data_root, img_dir), 'images')
    seg_dir = None
    if seg_prefix is not None:
        stems = [osp.splitext(n)[0] + '.png' for n in names]
        seg_dir = _find_dir(data_root, seg_prefix, stems[0], 'label map',
                            path)
        _missing(path, stems, osp.join(data_root, seg_dir), 'label maps',
                 '; they are PNGs named like the images')
    cats = sorted(coco['categories'], key=lambda c: c['id'])
    return dict(ann_file=ann_file, img_prefix=img_dir, seg_prefix=seg_dir,
                classes=tuple(c['name'] for c in cats),
                num_images=len(names))


# ----------------------------------------------------------------- configs
def pretrained_init_paths(model, path=('model', )):
    """Key paths of every ``init_cfg`` of type Pretrained inside ``model``."""
    found = []
    if isinstance(model, dict):
        for key, value in model.items():
            if key == 'init_cfg' and isinstance(value, dict) and \
                    value.get('type') == 'Pretrained':
                found.append(path + (key, ))
            else:
                found.extend(pretrained_init_paths(value, path + (key, )))
    return found


def _nest(options):
    """``{'a.b': v}`` -> ``{'a': {'b': v}}``, as mmengine reads
    ``--cfg-options`` (:meth:`mmengine.config.Config.merge_from_dict`)."""
    cfg = Config()
    cfg.merge_from_dict(options)
    return cfg.to_dict()


def _get(cfg, *keys):
    for key in keys:
        if not isinstance(cfg, dict) or key not in cfg:
            return None
        cfg = cfg[key]
    return cfg


def _datasets(cfg, config):
    """(dataloader name, its dataset) for train/val/test; a wrapped dataset
    (ConcatDataset, RepeatDataset) cannot be retargeted."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = _get(cfg, name, 'dataset')
        if dataset is None:
            continue
        if 'dataset' in dataset or 'datasets' in dataset:
            raise SuiteError(
                f'{config}: {name}.dataset is a {dataset.get("type")} '
                'wrapper; --data-root retargets configs whose dataloaders '
                'hold one dataset. Run this config without the data options '
                'or pick a config that reads one COCO-format file')
        yield name, dataset


def _dataset_override(task, name, dataset, split, root, config):
    """The keys that move one dataloader's dataset onto ``split``."""
    new = dict(data_root=root, ann_file=split['ann_file'])
    retype = dict(det='CocoDataset', seg=SEG_DATASET).get(task)
    if retype is not None and dataset.get('type') != retype:
        new.update(_delete_=True, type=retype,
                   pipeline=dataset.get('pipeline'))
        if task == 'det':
            new['test_mode'] = name != 'train_dataloader'
    if task == 'det':
        new.update(data_prefix=dict(img=split['img_prefix']),
                   metainfo=dict(classes=split['classes']))
    elif task == 'seg':
        new.update(data_prefix=dict(img_path=split['img_prefix'],
                                    seg_map_path=split['seg_prefix']))
    elif dataset.get('type') != 'ObjectCropDataset':
        raise SuiteError(
            f'{config}: the linear probe on COCO-format data needs a config '
            'whose dataset is ObjectCropDataset (object crops); this one '
            f'reads {dataset.get("type")}')
    else:
        new.update(data_prefix=dict(img=split['img_prefix']))
    return new


def data_overrides(task, cfg, config, train, val, data_root):
    """The config keys that move a task config onto the given data."""
    classes = train['classes']
    if val['classes'] != classes:
        raise SuiteError(
            f'{val["ann_file"]} and {train["ann_file"]} list different '
            'categories; train and val must share them')
    root = osp.abspath(data_root)
    over = {
        f'{name}.dataset': _dataset_override(
            task, name, dataset, train if name == 'train_dataloader' else
            val, root, config)
        for name, dataset in _datasets(cfg, config)
    }
    if task == 'det':
        for key in ('val_evaluator', 'test_evaluator'):
            if isinstance(cfg.get(key), dict):
                over[f'{key}.ann_file'] = osp.join(root, val['ann_file'])
        heads = [('roi_head', 'bbox_head'), ('roi_head', 'mask_head'),
                 ('bbox_head', )]
        num_classes = len(classes)
    elif task == 'seg':
        imports = list(_get(cfg, 'custom_imports', 'imports') or [])
        if SEG_MODULE not in imports:
            over['custom_imports'] = dict(
                imports=imports + [SEG_MODULE], allow_failed_imports=False)
        heads = [('decode_head', ), ('auxiliary_head', )]
        num_classes = len(classes) + 1  # background
    else:
        heads = [('head', )]
        num_classes = len(classes)
        if isinstance(cfg.get('data_preprocessor'), dict):
            over['data_preprocessor.num_classes'] = num_classes
    for head in heads:
        node = _get(cfg['model'], *head)
        key = '.'.join(('model', ) + head)
        if isinstance(node, dict) and 'num_classes' in node:
            over[f'{key}.num_classes'] = num_classes
        elif isinstance(node, list):  # several auxiliary heads
            over[key] = [dict(h, num_classes=num_classes) for h in node]
    return _nest(over)


def init_overrides(cfg, config, backbone):
    """Point every Pretrained ``init_cfg`` of the model at ``backbone`` (an
    extracted file), or remove it for random init (``backbone`` None)."""
    paths = pretrained_init_paths(cfg['model'])
    if not paths:
        raise SuiteError(
            f'{config}: no init_cfg of type Pretrained in the model; the '
            'suite sets the pretrained weights there')
    value = None if backbone is None else dict(
        type='Pretrained', checkpoint=backbone, prefix=None)
    return _nest({'.'.join(path): value for path in paths})


def write_child_config(path, base, *overrides):
    """A config file that inherits ``base`` and sets ``overrides`` (nested
    dicts, merged in turn as mmengine merges ``--cfg-options``)."""
    child = Config(dict(_base_=[osp.abspath(base)]))
    for over in overrides:
        child.merge_from_dict(over)
    os.makedirs(osp.dirname(path), exist_ok=True)
    child.dump(path)
    return path


def frac_name(fraction):
    """``1.0`` -> ``'1'``, ``0.1`` -> ``'0.1'``: a fraction as a key."""
    return f'{fraction:g}'


def extract(name, checkpoint, work_dir):
    """The backbone of a pretraining checkpoint, extracted once."""
    out = osp.join(work_dir, 'backbones', f'{name}.pth')
    if osp.isfile(out) and osp.getmtime(out) >= osp.getmtime(checkpoint):
        return out
    log(f'extracting the backbone of {name} from {checkpoint}')
    proc = subprocess.run(
        [sys.executable,
         osp.join(REPO, 'tools', 'model_converters',
                  'extract_backbone_weights.py'), checkpoint, out],
        capture_output=True, text=True)
    if proc.returncode != 0:
        raise SuiteError(f'--pretrained {name}={checkpoint}: '
                         f'{proc.stderr.strip().splitlines()[-1]}')
    return out


def _task_configs(tasks, config_specs):
    configs = {t: TASKS[t].config for t in tasks}
    for spec in config_specs:
        task, _, path = spec.partition('=')
        if task not in TASKS or not path:
            raise SuiteError(f'--config {spec}: write TASK=CONFIG with TASK '
                             f'one of {", ".join(TASKS)}')
        if not osp.isfile(path):
            raise SuiteError(f'--config {spec}: no file {path}')
        configs[task] = osp.abspath(path)
    return configs


def _splits(tasks, data_root, ann_train, ann_val, img_prefix, seg_prefix):
    seg = seg_prefix if 'seg' in tasks else None
    if 'seg' in tasks and seg is None:
        raise SuiteError('--tasks seg with --data-root needs --seg-prefix '
                         '(the folder of the PNG label maps)')
    splits = [resolve_split(data_root, ann, img_prefix, seg)
              for ann in (ann_train, ann_val)]
    for s in splits:
        log(f'{s["ann_file"]}: {s["num_images"]} images under '
            f'{s["img_prefix"]}' +
            (f', label maps under {s["seg_prefix"]}'
             if s['seg_prefix'] else '') + f', {len(s["classes"])} classes')
    return splits


def _label_subsets(work_dir, train_file, fractions, seeds):
    from hclmm.datasets.coco_subset import write_coco_split
    labels = {}
    for fraction in fractions:
        if fraction == 1:
            continue
        for seed in seeds:
            path = osp.join(work_dir, 'labels',
                            f'train_{frac_name(fraction)}_seed{seed}.json')
            summary = write_coco_split(train_file, fraction, seed,
                                       path)['subset']
            labels[(fraction, seed)] = path
            log(f'{fraction:.0%} of the training images, seed {seed}: '
                f'{summary["num_images"]} images, '
                f'{summary["num_annotations"]} objects, '
                f'{summary["classes"]} classes -> {osp.relpath(path)}')
    return labels


def prepare(work_dir, pretrained, tasks=tuple(TASKS), configs=(),
            data_root=None, ann_train='annotations/train.json',
            ann_val='annotations/val.json', img_prefix='images/',
            seg_prefix=None, seeds=(0, ), label_fractions=(1.0, )):
    """Check the inputs and write the per-(task, init) configs.

    Args:
        pretrained (list[str]): ``NAME=CHECKPOINT`` or ``random`` each.
        configs (list[str]): ``TASK=CONFIG`` each, replacing a task's
            default config.
        The others as the options of ``tools/benchmarks/transfer.py``.

    Returns:
        tuple: ``(inits, configs, labels)`` with ``configs[(task, init)]``
        the path of the config that run trains and ``labels[(fraction,
        seed)]`` the training file of each labelled fraction below 1.
    """
    for fraction in label_fractions:
        if not 0 < fraction <= 1:
            raise SuiteError(f'--label-fraction {fraction}: a fraction of '
                             'the training images is in (0, 1]')
    if any(f < 1 for f in label_fractions) and not data_root:
        raise SuiteError('--label-fraction below 1 needs --data-root (the '
                         'subsets are cut from its --ann-train file)')
    inits = parse_pretrained(pretrained)
    task_configs = _task_configs(tasks, configs)
    splits = _splits(tasks, data_root, ann_train, ann_val, img_prefix,
                     seg_prefix) if data_root else None
    backbones = {name: extract(name, path, work_dir)
                 for name, path in inits.items() if path is not None}
    children = {}
    for task in tasks:
        base = task_configs[task]
        cfg = Config.fromfile(base).to_dict()
        data = data_overrides(task, cfg, base, *splits, data_root) \
            if splits else {}
        for init in inits:
            children[(task, init)] = write_child_config(
                osp.join(work_dir, 'configs', task, f'{init}.py'), base,
                data, init_overrides(cfg, base, backbones.get(init)))
    labels = _label_subsets(
        work_dir, splits and osp.join(data_root, splits[0]['ann_file']),
        label_fractions, seeds)
    return inits, children, labels


# -------------------------------------------------------------------- runs
def plan_runs(tasks, inits, label_fractions, seeds):
    """The runs in the order they run: ``(task, init, fraction, seed)``,
    fraction by fraction, seed by seed."""
    return [(task, init, fraction, seed) for fraction in label_fractions
            for seed in seeds for task in tasks for init in inits]


def run_dir_of(work_dir, task, init, fraction, seed):
    """``runs/TASK/INIT/seedS`` (all labels) or
    ``runs/TASK/INIT/fractionF/seedS``."""
    parts = [work_dir, 'runs', task, init]
    if fraction != 1:
        parts.append(f'fraction{frac_name(fraction)}')
    return osp.join(*parts, f'seed{seed}')


def read_metrics(run_dir, runner='train'):
    """The metrics of a finished run, or None: the dict that
    ``tools/test.py --out-item metrics`` wrote (``train``), or the
    accuracies of knn_eval.py's json under the suite's names ``knn/top1``
    and ``knn/top5`` (``knn``)."""
    if runner == 'train':
        path = osp.join(run_dir, METRICS_FILE)
        return mmengine.load(path) if osp.isfile(path) else None
    files = sorted(f for f in os.listdir(run_dir)
                   if f.startswith('knn_') and f.endswith('.json'))
    if not files:
        return None
    res = mmengine.load(osp.join(run_dir, files[-1]))
    return {f'knn/{k}': res[k] for k in ('top1', 'top5') if k in res}


def _tool(*parts):
    return osp.join(REPO, 'tools', *parts)


def run_commands(runner, config, run_dir, seed, gpus, cfg_options):
    """The command lines of one run: training (one process or
    ``dist_train.sh``) then the test of its last checkpoint (``test.py`` or
    ``dist_test.sh``, ``CHECKPOINT`` standing for the checkpoint), or the kNN
    tool (one process)."""
    options = ['--cfg-options', f'randomness.seed={seed}'] + list(cfg_options)
    if runner == 'knn':
        import torch
        device = 'cuda' if gpus and torch.cuda.is_available() else 'cpu'
        return [[sys.executable,
                 _tool('benchmarks', 'classification', 'knn_eval.py'), config,
                 '--work-dir', run_dir, '--device', device] + options]
    resume = ['--resume'] if osp.isfile(osp.join(run_dir,
                                                 'last_checkpoint')) else []
    out = ['--work-dir', run_dir]
    test = out + ['--out', osp.join(run_dir, METRICS_FILE), '--out-item',
                  'metrics']
    if gpus > 1:
        return [['bash', _tool('dist_train.sh'), config, str(gpus)] + out +
                resume + options,
                ['bash', _tool('dist_test.sh'), config, 'CHECKPOINT',
                 str(gpus)] + test + options]
    return [[sys.executable, _tool('train.py'), config] + out + resume +
            options,
            [sys.executable, _tool('test.py'), config, 'CHECKPOINT'] + test +
            options]


def is_stale(run_dir, backbone):
    """Whether the run in ``run_dir`` started before ``backbone`` (its
    pretrained weights) was last extracted, i.e. from other weights."""
    if backbone is None or not osp.isdir(run_dir):
        return False
    files = [osp.join(d, f) for d, _, fs in os.walk(run_dir) for f in fs]
    return bool(files) and min(map(osp.getmtime, files)) < \
        osp.getmtime(backbone)


def _call(cmd, log_path):
    """Run ``cmd`` from the repository with its output in ``log_path``."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep +
               os.environ.get('PYTHONPATH', ''), PYTHON=sys.executable)
    with open(log_path, 'a') as log_file:
        log_file.write('$ ' + ' '.join(cmd) + '\n')
        log_file.flush()
        code = subprocess.run(cmd, stdout=log_file, stderr=subprocess.STDOUT,
                              env=env, cwd=REPO).returncode
    if code != 0:
        with open(log_path) as f:
            tail = [ln.rstrip() for ln in f.readlines()[-15:]]
        raise RuntimeError(f'exit code {code}; the log ends with:\n    ' +
                           '\n    '.join(tail))


def run_one(config, run_dir, seed, gpus=1, cfg_options=(), runner='train'):
    """Run one (task, init, seed), or read it back when its ``result.json``
    exists; returns ``dict(metrics, seconds, config, seed)``."""
    done = osp.join(run_dir, 'result.json')
    if osp.isfile(done):
        return mmengine.load(done)
    os.makedirs(run_dir, exist_ok=True)
    log_path = osp.join(run_dir, 'train.log')
    start = time.time()
    for cmd in run_commands(runner, config, run_dir, seed, gpus,
                            cfg_options):
        if 'CHECKPOINT' in cmd:
            with open(osp.join(run_dir, 'last_checkpoint')) as f:
                cmd[cmd.index('CHECKPOINT')] = f.read().strip()
        _call(cmd, log_path)
    metrics = read_metrics(run_dir, runner)
    if metrics is None:
        raise RuntimeError(f'no metrics written into {run_dir} (see '
                           f'{log_path})')
    result = dict(metrics=metrics, seconds=round(time.time() - start, 1),
                  config=config, seed=seed)
    with open(done, 'w') as f:
        json.dump(result, f, indent=1)
    return result


# ----------------------------------------------------------------- summary
def _cell(metric, seeds):
    values = list(seeds.values())
    return dict(metric=metric, seeds=seeds, mean=statistics.mean(values),
                std=statistics.stdev(values) if len(values) > 1 else None)


def metric_of(task, metrics):
    """The first of the task's metric keys that ``metrics`` holds, or None.
    """
    return next((k for k in TASKS[task].metrics if k in metrics), None)


def summarise(results, tasks, inits):
    """``{task: {init: {metric, seeds, mean, std, label_fraction}}}`` from
    run results keyed ``(task, init)`` (all labels) or ``(task, init,
    fraction)``. The top-level cell is the largest labelled fraction's;
    with several fractions, ``fractions`` holds every fraction's cell
    (``{"0.1": {metric, seeds, mean, std}}``)."""
    by_key = {}
    for key, runs in results.items():
        task, init, fraction = key if len(key) == 3 else key + (1.0, )
        by_key[(task, init, fraction)] = runs
    table = OrderedDict()
    for task in tasks:
        for init in inits:
            cells = OrderedDict()
            for fraction in sorted({f for t, i, f in by_key
                                    if (t, i) == (task, init)},
                                   reverse=True):
                seeds = OrderedDict()
                metric = None
                for seed, res in by_key[(task, init, fraction)].items():
                    metric = metric_of(task, res['metrics'])
                    if metric is None:
                        continue
                    seeds[str(seed)] = res['metrics'][metric]
                if seeds:
                    cells[fraction] = _cell(metric, seeds)
            if not cells:
                continue
            top = max(cells)
            cell = dict(cells[top], label_fraction=top)
            if len(cells) > 1:
                cell['fractions'] = OrderedDict(
                    (frac_name(f), c) for f, c in cells.items())
            table.setdefault(task, OrderedDict())[init] = cell
    return table


def fmt(v):
    """A metric value as the tables show it."""
    return f'{v:.3f}' if abs(v) < 1 else f'{v:.2f}'


def _cell_text(cell):
    """``mean ± std (seed values)`` of a table cell, ``–`` for none."""
    if cell is None:
        return '–'
    std = '' if cell['std'] is None else f' ± {fmt(cell["std"])}'
    seeds = ', '.join(fmt(v) for v in cell['seeds'].values())
    return f'{fmt(cell["mean"])}{std} ({seeds})'


def _row(cells):
    return '| ' + ' | '.join(cells) + ' |'


def markdown(table, tasks, inits, failures, title):
    """The table as Markdown: mean +- std (per-seed values), differences of
    means next to the larger of the two spreads, and failed runs."""
    shown = [t for t in tasks if t in table]
    lines = [f'# {title}', '',
             'mean ± sample std over seeds (each seed\'s value in brackets)',
             '']
    lines += [_row(['init'] + [
        f'{t} `{next(iter(table[t].values()))["metric"]}`' for t in shown]),
        '|' + '---|' * (len(shown) + 1)]
    lines += [_row([init] + [_cell_text(table[t].get(init)) for t in shown])
              for init in inits]
    pairs = [(a, b) for i, a in enumerate(inits) for b in inits[i + 1:]]
    if pairs and table:
        lines += ['', 'Differences of means (larger of the two stds in '
                  'brackets):', '', _row(['pair'] + shown),
                  '|---|' + '---|' * len(shown)]
        for a, b in pairs:
            row = [f'{a} − {b}']
            for task in shown:
                ca, cb = table[task].get(a), table[task].get(b)
                if ca is None or cb is None:
                    row.append('–')
                    continue
                stds = [c['std'] for c in (ca, cb) if c['std'] is not None]
                spread = f' ({fmt(max(stds))})' if stds else ''
                row.append(f'{ca["mean"] - cb["mean"]:+.3f}{spread}')
            lines.append(_row(row))
    lines += label_efficiency_lines(table, tasks, inits)
    if failures:
        lines += ['', 'Failed runs:', '']
        lines += [f'- {t} / {i} / seed {s}: {why.splitlines()[-1].strip()}'
                  for t, i, s, why in failures]
    return '\n'.join(lines) + '\n'


def label_efficiency_lines(table, tasks, inits):
    """Markdown lines of the label-efficiency table (metric per labelled
    fraction, mean ± std and each seed), when the suite ran several."""
    fracs = sorted({f for cells in table.values() for c in cells.values()
                    for f in c.get('fractions', {})}, key=float,
                   reverse=True)
    if not fracs:
        return []
    lines = ['', 'Label efficiency: the same number of training steps on a '
             'class-stratified fraction of the training images (a new '
             'subset per seed):', '',
             _row(['task', 'init'] +
                  [f'{float(f):.0%} labels' for f in fracs]),
             '|---|---|' + '---|' * len(fracs)]
    for task in tasks:
        for init in inits:
            cell = table.get(task, {}).get(init)
            if cell is None or 'fractions' not in cell:
                continue
            lines.append(_row(
                [f'{task} `{cell["metric"]}`', init] +
                [_cell_text(cell['fractions'].get(f)) for f in fracs]))
    return lines


def send_to_visualizer(table, work_dir, backends):
    """The table as a figure (``WORK_DIR/transfer.png``) and its means as
    scalars (``transfer/TASK/INIT``) through mmengine's visualizer backends,
    which write under ``WORK_DIR/vis_data``."""
    from hclmm.visualization import (add_report, build_report_visualizer,
                                     plot_label_efficiency,
                                     plot_transfer_table)
    png = plot_transfer_table(table, osp.join(work_dir, 'transfer.png'))
    images = {'transfer': png}
    scalars = {
        f'transfer/{task}/{init}': cell['mean']
        for task, cells in table.items() for init, cell in cells.items()
    }
    if any('fractions' in c for cells in table.values()
           for c in cells.values()):
        images['label_efficiency'] = plot_label_efficiency(
            table, osp.join(work_dir, 'label_efficiency.png'))
        scalars.update({
            f'label_efficiency/{task}/{init}/{frac}': c['mean']
            for task, cells in table.items() for init, cell in cells.items()
            for frac, c in cell.get('fractions', {}).items()
        })
    visualizer = build_report_visualizer(
        dict(type='Visualizer',
             vis_backends=[dict(type=VIS_BACKENDS[b]) for b in backends]),
        work_dir, 'transfer')
    add_report(visualizer, images, scalars)
    visualizer.close()
    return png


def write_outputs(work_dir, results, tasks, inits, failures, title):
    """``transfer.json`` and ``transfer.md`` in ``work_dir``; returns the
    table."""
    table = summarise(results, tasks, inits)
    with open(osp.join(work_dir, 'transfer.json'), 'w') as f:
        json.dump(table, f, indent=1)
    with open(osp.join(work_dir, 'transfer.md'), 'w') as f:
        f.write(markdown(table, tasks, inits, failures, title))
    return table


# -------------------------------------------------------------------- suite
def _run_planned(work_dir, inits, configs, labels, runs, gpus, cfg_options,
                 write):
    """Every planned run, one console line each as it finishes, and
    ``write(results, failures)`` after each; returns the results and the
    failures."""
    results, failures = {}, []
    for index, (task, init, fraction, seed) in enumerate(runs, 1):
        tag = f'[{index}/{len(runs)}] {task} / {init} / seed {seed}' + (
            f' / {fraction:.0%} labels' if fraction != 1 else '')
        run_dir = run_dir_of(work_dir, task, init, fraction, seed)
        options = list(cfg_options)
        if fraction != 1:
            options.append('train_dataloader.dataset.ann_file=' +
                           labels[(fraction, seed)])
        backbone = osp.join(work_dir, 'backbones', f'{init}.pth')
        if inits[init] is not None and is_stale(run_dir, backbone):
            log(f'{tag}: {run_dir} is from an earlier checkpoint of {init}; '
                'running it again')
            shutil.rmtree(run_dir)
        resumed = osp.isfile(osp.join(run_dir, 'result.json'))
        log(f'{tag}: ' + ('finished before, read back' if resumed else
                          f'running {osp.relpath(configs[(task, init)])}'))
        try:
            res = run_one(configs[(task, init)], run_dir, seed, gpus, options,
                          runner=TASKS[task].runner)
        except RuntimeError as e:
            failures.append((task, init, seed, str(e)))
            log(f'{tag}: FAILED ({e})')
            write(results, failures)
            continue
        results.setdefault((task, init, fraction), {})[seed] = res
        metric = metric_of(task, res['metrics'])
        if metric is None:
            failures.append((task, init, seed, 'none of the metrics '
                             f'{TASKS[task].metrics} in the final metrics'))
        elif not resumed:
            log(f'done {index}/{len(runs)}: init {init}, task {task}, '
                f'{fraction:.0%} labels, seed {seed}: {metric} = '
                f'{fmt(res["metrics"][metric])} ({res["seconds"]:.0f} s)')
        write(results, failures)
    return results, failures


def run_transfer(work_dir, pretrained, tasks=tuple(TASKS), seeds=(0, ),
             label_fractions=(1.0, ), gpus=1, cfg_options=(),
             title='Transfer', vis_backends=('local', ), **data):
    """The whole suite: prepare, run every (task, init, fraction, seed),
    write ``transfer.json``, ``transfer.md`` and the figures.

    Args:
        data: ``configs``, ``data_root``, ``ann_train``, ``ann_val``,
            ``img_prefix``, ``seg_prefix`` of :func:`prepare`.

    Returns:
        tuple: ``(table, failures, runs)``: the json's table, the failed
        runs as ``(task, init, seed, why)`` and the planned runs.
    """
    work_dir = osp.abspath(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    inits, configs, labels = prepare(
        work_dir, pretrained, tasks, seeds=seeds,
        label_fractions=label_fractions, **data)
    names = list(inits)
    runs = plan_runs(tasks, names, label_fractions, seeds)

    def write(results, failures):
        return write_outputs(work_dir, results, tasks, names, failures, title)

    results, failures = _run_planned(work_dir, inits, configs, labels, runs,
                                     gpus, cfg_options, write)
    table = write(results, failures)
    print(markdown(table, tasks, names, failures, title))
    if table:
        send_to_visualizer(table, work_dir, vis_backends)
    log(f'wrote {osp.join(work_dir, "transfer.json")}, '
        f'{osp.join(work_dir, "transfer.md")} and the figure '
        f'{osp.join(work_dir, "transfer.png")} (also in vis_data: '
        f'{", ".join(vis_backends)})')
    if failures:
        log(f'{len(failures)} of {len(runs)} runs failed: ' + '; '.join(
            f'{t} / {i} / seed {s}' for t, i, s, _ in failures))
    return table, failures, runs
