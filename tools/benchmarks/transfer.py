"""Transfer suite: pretrained backbones (and random init) through detection,
segmentation, the linear probe and kNN classification, with the libraries'
own metrics.

For every named pretraining checkpoint the suite extracts the online backbone
(``tools/model_converters/extract_backbone_weights.py``), then trains each
task config once per init and seed through ``tools/train.py`` (one process)
or ``tools/dist_train.sh`` (``--gpus N``, N > 1), with validation on. The
``knn`` task trains nothing: ``tools/benchmarks/classification/knn_eval.py``
classifies the val samples by their nearest train samples in the frozen
backbone's features (one process, on the GPU when there is one; the seed
changes only random init). It reads the final validation metric from each
run's mmengine log (kNN: the tool's json) and writes
``WORK_DIR/transfer.json``::

    {task: {init: {"metric": NAME, "seeds": {seed: value},
                   "mean": value, "std": value}}}

and the same as a Markdown table, ``WORK_DIR/transfer.md``, and a figure,
``WORK_DIR/transfer.png``, which goes with the means to the mmengine
visualizer backends of ``--vis-backends`` (``WORK_DIR/vis_data``). ``std`` is the
sample standard deviation over the seeds (null for one seed). Metric names
are the libraries' keys: ``coco/bbox_mAP`` (det), ``mIoU`` (seg),
``accuracy/top1`` (linear); ``knn/top1`` (knn) is knn_eval.py's top-1.

Each run lives in ``WORK_DIR/runs/TASK/INIT/seedS`` with the config it ran
(``WORK_DIR/configs/TASK/INIT.py``, a child of the task config), its log and
``result.json``. A run with a ``result.json`` is not repeated, so re-running
the command resumes, unless the checkpoint of its init is newer than the run
(then the run starts again); a failed run is named (task, init, seed) and the
others still run.

Data (optional): ``--data-root`` retargets every task to a COCO-instances
pair of train and val files. The split comes from the files, the classes from
their ``categories``; image paths are ``--img-prefix`` + ``file_name``, label
maps ``--seg-prefix`` + the image's stem + ``.png`` (pixel value =
``category_id``, 0 = background, 255 = ignore). Where the files are not
directly under a prefix but in one of its subfolders (the toy layout:
``images/train/``, ``semantic/val/``), that subfolder is used. Without
``--data-root`` the task configs run on their own data.

Labels (optional): ``--label-fraction 1 0.1 0.02`` trains every task on a
class-stratified fraction of the training images too (a new subset per
seed, ``WORK_DIR/labels/``), for the same number of steps: the task configs
count iterations, not epochs. The json cells then carry ``label_fraction``
and ``fractions``, and a label-efficiency figure is drawn.

Example (the toy scenes)::

    python tools/benchmarks/transfer.py \\
        --pretrained hcl=work_dirs/demo/hcl/epoch_8.pth \\
                     base=work_dirs/demo/baseline/epoch_8.pth random \\
        --tasks seg det linear \\
        --data-root data/toy_scenes --ann-train annotations/train.json \\
        --ann-val annotations/val.json --img-prefix images/ \\
        --seg-prefix semantic/ --seeds 0 1 --work-dir work_dirs/transfer
"""
import argparse
import glob
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

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BENCH = osp.join(REPO, 'configs', 'benchmarks')

# A task: its default config, the metric keys in order of preference, the
# library, and the runner: ``train`` trains the config through
# tools/train.py and reads its final validation; ``knn`` classifies the val
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


def resolve_split(data_root, ann_file, img_prefix, seg_prefix):
    """Read one split's json and find its image (and label-map) folders.

    Returns:
        dict: ``ann_file``, ``img_prefix``, ``seg_prefix`` (None when not
        asked for), ``classes`` (category names sorted by id) and
        ``num_images``.
    """
    sys.path.insert(0, REPO)
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
    missing = [n for n in names
               if not osp.isfile(osp.join(data_root, img_dir, n))]
    if missing:
        raise SuiteError(
            f'{path}: {len(missing)} of {len(names)} images are missing '
            f'under {osp.join(data_root, img_dir)} (first: {missing[0]})')
    seg_dir = None
    if seg_prefix is not None:
        stems = [osp.splitext(n)[0] + '.png' for n in names]
        seg_dir = _find_dir(data_root, seg_prefix, stems[0], 'label map',
                            path)
        missing = [s for s in stems
                   if not osp.isfile(osp.join(data_root, seg_dir, s))]
        if missing:
            raise SuiteError(
                f'{path}: {len(missing)} of {len(names)} label maps are '
                f'missing under {osp.join(data_root, seg_dir)} (first: '
                f'{missing[0]}); they are PNGs named like the images')
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


def _set(tree, path, value):
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


def _get(cfg, path):
    for key in path:
        if not isinstance(cfg, dict) or key not in cfg:
            return None
        cfg = cfg[key]
    return cfg


def _datasets(cfg, config):
    """(dataloader name, its dataset) for train/val/test; a wrapped dataset
    (ConcatDataset, RepeatDataset) cannot be retargeted."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = _get(cfg, (name, 'dataset'))
        if dataset is None:
            continue
        if 'dataset' in dataset or 'datasets' in dataset:
            raise SuiteError(
                f'{config}: {name}.dataset is a {dataset.get("type")} '
                'wrapper; --data-root retargets configs whose dataloaders '
                'hold one dataset. Run this config without the data options '
                'or pick a config that reads one COCO-format file')
        yield name, dataset


def data_overrides(task, cfg, config, train, val, data_root):
    """The config keys that move a task config onto the given data."""
    over = {}
    classes = train['classes']
    if val['classes'] != classes:
        raise SuiteError(
            f'{val["ann_file"]} and {train["ann_file"]} list different '
            'categories; train and val must share them')
    root = osp.abspath(data_root)
    for name, dataset in _datasets(cfg, config):
        split = train if name == 'train_dataloader' else val
        new = dict(data_root=root, ann_file=split['ann_file'])
        if task == 'det':
            if dataset.get('type') != 'CocoDataset':
                new.update(_delete_=True, type='CocoDataset',
                           pipeline=dataset.get('pipeline'),
                           test_mode=name != 'train_dataloader')
            new.update(data_prefix=dict(img=split['img_prefix']),
                       metainfo=dict(classes=classes))
        elif task == 'seg':
            if dataset.get('type') != SEG_DATASET:
                new.update(_delete_=True, type=SEG_DATASET,
                           pipeline=dataset.get('pipeline'))
            new.update(data_prefix=dict(img_path=split['img_prefix'],
                                        seg_map_path=split['seg_prefix']))
        else:
            if dataset.get('type') != 'ObjectCropDataset':
                raise SuiteError(
                    f'{config}: the linear probe on COCO-format data needs a '
                    'config whose dataset is ObjectCropDataset (object '
                    f'crops); this one reads {dataset.get("type")}')
            new.update(data_prefix=dict(img=split['img_prefix']))
        _set(over, (name, 'dataset'), new)
    if task == 'det':
        for key in ('val_evaluator', 'test_evaluator'):
            if isinstance(cfg.get(key), dict):
                over[key] = dict(ann_file=osp.join(root, val['ann_file']))
        heads = [('roi_head', 'bbox_head'), ('roi_head', 'mask_head'),
                 ('bbox_head', )]
        num_classes = len(classes)
    elif task == 'seg':
        imports = list(_get(cfg, ('custom_imports', 'imports')) or [])
        if SEG_MODULE not in imports:
            over['custom_imports'] = dict(
                imports=imports + [SEG_MODULE], allow_failed_imports=False)
        heads = [('decode_head', ), ('auxiliary_head', )]
        num_classes = len(classes) + 1  # background
    else:
        heads = [('head', )]
        num_classes = len(classes)
        if isinstance(cfg.get('data_preprocessor'), dict):
            over['data_preprocessor'] = dict(num_classes=num_classes)
    for head in heads:
        node = _get(cfg['model'], head)
        if isinstance(node, dict) and 'num_classes' in node:
            _set(over, ('model', ) + head + ('num_classes', ), num_classes)
        elif isinstance(node, list):  # several auxiliary heads
            _set(over, ('model', ) + head,
                 [dict(h, num_classes=num_classes) for h in node])
    return over


def init_overrides(cfg, config, backbone):
    """Point every Pretrained ``init_cfg`` of the model at ``backbone`` (an
    extracted file), or remove it for random init (``backbone`` None)."""
    paths = pretrained_init_paths(cfg['model'])
    if not paths:
        raise SuiteError(
            f'{config}: no init_cfg of type Pretrained in the model; the '
            'suite sets the pretrained weights there')
    over = {}
    for path in paths:
        _set(over, path, None if backbone is None else dict(
            type='Pretrained', checkpoint=backbone, prefix=None))
    return over


def write_child_config(path, base, overrides, note):
    """A config file that inherits ``base`` and sets ``overrides``."""
    lines = [f'# {note}', '# Written by tools/benchmarks/transfer.py.',
             f'_base_ = [{osp.abspath(base)!r}]', '']
    for key, value in overrides.items():
        lines.append(f'{key} = {value!r}')
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def merge(a, b):
    """``b`` merged into a copy of ``a`` (nested dicts)."""
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


# -------------------------------------------------------------------- runs
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


def read_metrics(run_dir):
    """The last validation record of a run's mmengine logs (a dict of the
    metrics), or None."""
    last = None
    for path in sorted(glob.glob(osp.join(run_dir, '*', 'vis_data',
                                          '*.json'))):
        if osp.basename(path) == 'scalars.json':
            continue
        with open(path) as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if not any(k.startswith(('loss', 'lr')) for k in rec):
                    last = rec
    return last


_PROGRESS = re.compile(
    r'((?:Epoch|Iter)\((?:train|val)\)\s*(?:\[\d+\])?\[\s*\d+/\d+\])')
_ETA = re.compile(r'eta: ((?:\d+ days?, )?[\d:]+)')


class Progress:
    """One console line per run step (at most every ``every`` seconds), with
    the run's and the suite's ETA."""

    def __init__(self, total, every=15.0):
        self.total = total
        self.done_seconds = []
        self.every = every

    def suite_eta(self, index, run_eta):
        if not self.done_seconds:
            return ''
        mean = statistics.mean(self.done_seconds)
        left = run_eta + mean * (self.total - index)
        return f', suite eta ~{int(left // 60)} min'

    def watch(self, proc, log_file, tag, index):
        last = 0.0
        for line in proc.stdout:
            log_file.write(line)
            step = _PROGRESS.search(line)
            if step is None or time.time() - last < self.every:
                continue
            last = time.time()
            eta = _ETA.search(line)
            run_eta = 0
            if eta:
                *days, hms = eta.group(1).split(', ')
                h, m, s = (int(x) for x in hms.split(':'))
                run_eta = h * 3600 + m * 60 + s + \
                    (int(days[0].split()[0]) * 86400 if days else 0)
            log(f'{tag}: {step.group(1)}' +
                (f' eta {eta.group(1)}' if eta else '') +
                self.suite_eta(index, run_eta))


def read_knn(run_dir):
    """The accuracies that knn_eval.py wrote into ``run_dir``, under the
    suite's metric names (``knn/top1``, ``knn/top5``), or None."""
    files = sorted(glob.glob(osp.join(run_dir, 'knn_*.json')))
    if not files:
        return None
    with open(files[-1]) as f:
        res = json.load(f)
    return {f'knn/{k}': res[k] for k in ('top1', 'top5') if k in res}


def run_command(runner, config, run_dir, seed, gpus, cfg_options):
    """The command line of one run: training (``train``, one process or
    ``dist_train.sh``) or the kNN tool (``knn``, one process)."""
    if runner == 'knn':
        import torch
        cmd = [sys.executable,
               osp.join(REPO, 'tools', 'benchmarks', 'classification',
                        'knn_eval.py'), config, '--work-dir', run_dir,
               '--device', 'cuda' if gpus and torch.cuda.is_available()
               else 'cpu']
    elif gpus > 1:
        cmd = ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config,
               str(gpus), '--work-dir', run_dir]
    else:
        cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config,
               '--work-dir', run_dir]
    if runner == 'train' and osp.isfile(osp.join(run_dir,
                                                 'last_checkpoint')):
        cmd.append('--resume')
    return cmd + ['--cfg-options', f'randomness.seed={seed}'
                  ] + list(cfg_options)


def is_stale(run_dir, backbone):
    """Whether the run in ``run_dir`` started before ``backbone`` (its
    pretrained weights) was last extracted, i.e. from other weights."""
    if backbone is None or not osp.isdir(run_dir):
        return False
    files = [osp.join(d, f) for d, _, fs in os.walk(run_dir) for f in fs]
    return bool(files) and min(map(osp.getmtime, files)) < \
        osp.getmtime(backbone)


def run_one(config, run_dir, seed, gpus, cfg_options, progress, tag, index,
            runner='train'):
    """Run one (task, init, seed); returns its final metrics."""
    done = osp.join(run_dir, 'result.json')
    if osp.isfile(done):
        with open(done) as f:
            return json.load(f)
    os.makedirs(run_dir, exist_ok=True)
    cmd = run_command(runner, config, run_dir, seed, gpus, cfg_options)
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep +
               os.environ.get('PYTHONPATH', ''), PYTHON=sys.executable)
    start = time.time()
    with open(osp.join(run_dir, 'train.log'), 'a') as log_file:
        log_file.write('$ ' + ' '.join(cmd) + '\n')
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                env=env, cwd=REPO)
        progress.watch(proc, log_file, tag, index)
        code = proc.wait()
    if code != 0:
        with open(osp.join(run_dir, 'train.log')) as f:
            tail = [ln.rstrip() for ln in f.readlines()[-15:]]
        raise RuntimeError(f'exit code {code}; the log ends with:\n    ' +
                           '\n    '.join(tail))
    metrics = read_knn(run_dir) if runner == 'knn' else read_metrics(run_dir)
    if metrics is None:
        raise RuntimeError(f'no validation metrics in the logs of {run_dir}; '
                           'is validation switched off in the config?')
    result = dict(metrics=metrics, seconds=round(time.time() - start, 1),
                  config=config, seed=seed)
    with open(done, 'w') as f:
        json.dump(result, f, indent=1)
    progress.done_seconds.append(result['seconds'])
    return result


# ----------------------------------------------------------------- summary
def _cell(metric, seeds):
    values = list(seeds.values())
    return dict(metric=metric, seeds=seeds, mean=statistics.mean(values),
                std=statistics.stdev(values) if len(values) > 1 else None)


def frac_name(fraction):
    """``1.0`` -> ``'1'``, ``0.1`` -> ``'0.1'``: a fraction as a key."""
    return f'{fraction:g}'


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
        keys = TASKS[task].metrics
        for init in inits:
            cells = OrderedDict()
            for fraction in sorted({f for t, i, f in by_key
                                    if (t, i) == (task, init)},
                                   reverse=True):
                seeds = OrderedDict()
                metric = None
                for seed, res in by_key[(task, init, fraction)].items():
                    metric = next((k for k in keys if k in res['metrics']),
                                  None)
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


def _fmt(v):
    return f'{v:.3f}' if abs(v) < 1 else f'{v:.2f}'


def _cell_text(cell):
    """``mean ± std (seed values)`` of a table cell, ``–`` for none."""
    if cell is None:
        return '–'
    std = '' if cell['std'] is None else f' ± {_fmt(cell["std"])}'
    seeds = ', '.join(_fmt(v) for v in cell['seeds'].values())
    return f'{_fmt(cell["mean"])}{std} ({seeds})'


def markdown(table, tasks, inits, failures, title):
    """The table as Markdown: mean +- std (per-seed values), differences of
    means next to the larger of the two spreads, and failed runs."""
    lines = [f'# {title}', '',
             'mean ± sample std over seeds (each seed\'s value in brackets)',
             '']
    head = ['init'] + [f'{t} `{next(iter(table[t].values()))["metric"]}`'
                       for t in tasks if t in table]
    lines += ['| ' + ' | '.join(head) + ' |',
              '|' + '---|' * len(head)]
    for init in inits:
        row = [init]
        for task in tasks:
            if task not in table:
                continue
            row.append(_cell_text(table[task].get(init)))
        lines.append('| ' + ' | '.join(row) + ' |')
    pairs = [(a, b) for i, a in enumerate(inits) for b in inits[i + 1:]]
    if pairs and table:
        lines += ['', 'Differences of means (larger of the two stds in '
                  'brackets):', '', '| pair | ' +
                  ' | '.join(t for t in tasks if t in table) + ' |',
                  '|---|' + '---|' * len([t for t in tasks if t in table])]
        for a, b in pairs:
            row = [f'{a} − {b}']
            for task in tasks:
                if task not in table:
                    continue
                ca, cb = table[task].get(a), table[task].get(b)
                if ca is None or cb is None:
                    row.append('–')
                    continue
                stds = [c['std'] for c in (ca, cb) if c['std'] is not None]
                spread = f' ({_fmt(max(stds))})' if stds else ''
                row.append(f'{ca["mean"] - cb["mean"]:+.3f}{spread}')
            lines.append('| ' + ' | '.join(row) + ' |')
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
             '| task | init | ' + ' | '.join(f'{float(f):.0%} labels'
                                            for f in fracs) + ' |',
             '|---|---|' + '---|' * len(fracs)]
    for task in tasks:
        for init in inits:
            cell = table.get(task, {}).get(init)
            if cell is None or 'fractions' not in cell:
                continue
            row = [f'{task} `{cell["metric"]}`', init]
            row += [_cell_text(cell['fractions'].get(f)) for f in fracs]
            lines.append('| ' + ' | '.join(row) + ' |')
    return lines


VIS_BACKENDS = dict(local='LocalVisBackend',
                    tensorboard='TensorboardVisBackend')


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
    table = summarise(results, tasks, inits)
    with open(osp.join(work_dir, 'transfer.json'), 'w') as f:
        json.dump(table, f, indent=1)
    with open(osp.join(work_dir, 'transfer.md'), 'w') as f:
        f.write(markdown(table, tasks, inits, failures, title))
    return table


# -------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Re-running the same command resumes: finished runs are read '
        'back from WORK_DIR/runs, not repeated.')
    parser.add_argument(
        '--pretrained', nargs='+', required=True,
        help=f'NAME=CHECKPOINT (a pretraining checkpoint from '
        f'tools/train.py) or "{RANDOM}" (no pretrained weights)')
    parser.add_argument('--tasks', nargs='+', choices=list(TASKS),
                        default=list(TASKS))
    parser.add_argument(
        '--config', nargs='+', default=[], metavar='TASK=CONFIG',
        help='use CONFIG for TASK instead of the toy default, e.g. '
        'det=configs/benchmarks/mmdetection/coco/'
        'mask-rcnn_r50_fpn_ms-1x_coco.py')
    parser.add_argument('--data-root',
                        help='root of a COCO-format set (without it the '
                        'task configs use their own data)')
    parser.add_argument('--ann-train', default='annotations/train.json')
    parser.add_argument('--ann-val', default='annotations/val.json')
    parser.add_argument('--img-prefix', default='images/')
    parser.add_argument('--seg-prefix', default=None,
                        help='folder of the label maps (needed for seg '
                        'with --data-root)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument(
        '--label-fraction', nargs='+', type=float, default=[1.0],
        metavar='F',
        help='train every task on a class-stratified fraction F of the '
        'training images (a new subset per seed), at the same number of '
        'steps: the task configs are iteration-based, so fewer labels mean '
        'more passes; several values give a label-efficiency curve, e.g. '
        '1 0.1 0.02 (needs --data-root)')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--gpus', type=int, default=1,
                        help='GPUs (or CPU processes) per run; more than one '
                        'launches tools/dist_train.sh')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides passed to every run')
    parser.add_argument('--title', default='Transfer')
    parser.add_argument(
        '--vis-backends', nargs='+', choices=list(VIS_BACKENDS),
        default=['local'],
        help='mmengine visualizer backends that get the table at the end: '
        'a figure (also WORK_DIR/transfer.png) and the means as scalars, '
        'under WORK_DIR/vis_data (tensorboard: view with tensorboard '
        '--logdir WORK_DIR)')
    return parser.parse_args(argv)


def prepare(args):
    """Check the inputs and write the per-(task, init) configs.

    Returns:
        tuple: ``(inits, configs, labels)`` with ``configs[(task, init)]``
        the path of the config that run trains and ``labels[(fraction,
        seed)]`` the training file of each labelled fraction below 1.
    """
    from mmengine.config import Config
    for fraction in args.label_fraction:
        if not 0 < fraction <= 1:
            raise SuiteError(f'--label-fraction {fraction}: a fraction of '
                             'the training images is in (0, 1]')
    if any(f < 1 for f in args.label_fraction) and not args.data_root:
        raise SuiteError('--label-fraction below 1 needs --data-root (the '
                         'subsets are cut from its --ann-train file)')
    inits = parse_pretrained(args.pretrained)
    task_configs = {t: TASKS[t].config for t in args.tasks}
    for spec in args.config:
        task, _, path = spec.partition('=')
        if task not in TASKS or not path:
            raise SuiteError(f'--config {spec}: write TASK=CONFIG with TASK '
                             f'one of {", ".join(TASKS)}')
        if not osp.isfile(path):
            raise SuiteError(f'--config {spec}: no file {path}')
        task_configs[task] = osp.abspath(path)
    splits = None
    if args.data_root:
        seg = args.seg_prefix if 'seg' in args.tasks else None
        if 'seg' in args.tasks and seg is None:
            raise SuiteError('--tasks seg with --data-root needs --seg-prefix '
                             '(the folder of the PNG label maps)')
        splits = [resolve_split(args.data_root, ann, args.img_prefix, seg)
                  for ann in (args.ann_train, args.ann_val)]
        for s in splits:
            log(f'{s["ann_file"]}: {s["num_images"]} images under '
                f'{s["img_prefix"]}' +
                (f', label maps under {s["seg_prefix"]}'
                 if s['seg_prefix'] else '') +
                f', {len(s["classes"])} classes')
    backbones = {name: extract(name, path, args.work_dir)
                 for name, path in inits.items() if path is not None}
    configs = {}
    for task in args.tasks:
        base = task_configs[task]
        cfg = Config.fromfile(base).to_dict()
        data = data_overrides(task, cfg, base, *splits, args.data_root) \
            if splits else {}
        for init in inits:
            over = merge(data, init_overrides(cfg, base,
                                              backbones.get(init)))
            note = f'{task} from {init}' + (
                f' ({inits[init]})' if inits[init] else ' (random init)')
            configs[(task, init)] = write_child_config(
                osp.join(args.work_dir, 'configs', task, f'{init}.py'),
                base, over, note)
    from hclmm.datasets.coco_subset import write_coco_split
    labels = {}
    for fraction in args.label_fraction:
        if fraction == 1:
            continue
        for seed in args.seeds:
            path = osp.join(args.work_dir, 'labels',
                            f'train_{frac_name(fraction)}_seed{seed}.json')
            summary = write_coco_split(
                osp.join(args.data_root, splits[0]['ann_file']), fraction,
                seed, path)['subset']
            labels[(fraction, seed)] = path
            log(f'{fraction:.0%} of the training images, seed {seed}: '
                f'{summary["num_images"]} images, '
                f'{summary["num_annotations"]} objects, '
                f'{summary["classes"]} classes -> {osp.relpath(path)}')
    return inits, configs, labels


def run_dir_of(work_dir, task, init, fraction, seed):
    """``runs/TASK/INIT/seedS`` (all labels) or
    ``runs/TASK/INIT/fractionF/seedS``."""
    parts = [work_dir, 'runs', task, init]
    if fraction != 1:
        parts.append(f'fraction{frac_name(fraction)}')
    return osp.join(*parts, f'seed{seed}')


def main(argv=None):
    args = parse_args(argv)
    args.work_dir = osp.abspath(args.work_dir)
    os.makedirs(args.work_dir, exist_ok=True)
    try:
        inits, configs, labels = prepare(args)
    except SuiteError as e:
        sys.exit(f'transfer.py: {e}')
    names = list(inits)
    runs = [(task, init, fraction, seed)
            for fraction in args.label_fraction for seed in args.seeds
            for task in args.tasks for init in names]
    progress = Progress(len(runs))
    results, failures = {}, []
    for index, (task, init, fraction, seed) in enumerate(runs, 1):
        tag = f'[{index}/{len(runs)}] {task} / {init} / seed {seed}' + (
            f' / {fraction:.0%} labels' if fraction != 1 else '')
        run_dir = run_dir_of(args.work_dir, task, init, fraction, seed)
        cfg_options = list(args.cfg_options)
        if fraction != 1:
            cfg_options.append('train_dataloader.dataset.ann_file=' +
                               labels[(fraction, seed)])
        backbone = osp.join(args.work_dir, 'backbones', f'{init}.pth')
        if inits[init] is not None and is_stale(run_dir, backbone):
            log(f'{tag}: {run_dir} is from an earlier checkpoint of {init}; '
                'running it again')
            shutil.rmtree(run_dir)
        resumed = osp.isfile(osp.join(run_dir, 'result.json'))
        log(f'{tag}: ' + ('finished before, read back' if resumed else
                          f'running {osp.relpath(configs[(task, init)])}'))
        try:
            res = run_one(configs[(task, init)], run_dir, seed, args.gpus,
                          cfg_options, progress, tag, index,
                          runner=TASKS[task].runner)
        except RuntimeError as e:
            failures.append((task, init, seed, str(e)))
            log(f'{tag}: FAILED ({e})')
        else:
            results.setdefault((task, init, fraction), {})[seed] = res
            metric = next((k for k in TASKS[task].metrics if k in res['metrics']),
                          None)
            if metric is None:
                failures.append((task, init, seed, 'none of the metrics '
                                 f'{TASKS[task].metrics} in the final validation'))
            elif not resumed:
                log(f'{tag}: {metric} = {_fmt(res["metrics"][metric])} '
                    f'({res["seconds"]:.0f} s)')
        write_outputs(args.work_dir, results, args.tasks, names, failures,
                      args.title)
    table = write_outputs(args.work_dir, results, args.tasks, names,
                          failures, args.title)
    print(markdown(table, args.tasks, names, failures, args.title))
    if table:
        send_to_visualizer(table, args.work_dir, args.vis_backends)
    log(f'wrote {osp.join(args.work_dir, "transfer.json")}, '
        f'{osp.join(args.work_dir, "transfer.md")} and the figure '
        f'{osp.join(args.work_dir, "transfer.png")} (also in vis_data: '
        f'{", ".join(args.vis_backends)})')
    if failures:
        log(f'{len(failures)} of {len(runs)} runs failed: ' + '; '.join(
            f'{t} / {i} / seed {s}' for t, i, s, _ in failures))
        sys.exit(1)


if __name__ == '__main__':
    main()
