"""The demo report: table, differences from the baseline read by one stated
rule, clear errors."""
import json
import os.path as osp
import sys

from hclmm_test_utils import REPO, run_cli


def _write(tmp_path, name, **values):
    d = tmp_path / name
    d.mkdir()
    base = dict(scene_object_norm_auroc=None, label_count_spearman=None,
                retrieval_map=None, retrieval_recall_at_1=None,
                ooc_auroc=None, object_knn_top1=None, num_scenes=3,
                num_objects=7)
    base.update(values)
    (d / 'zero_shot.json').write_text(json.dumps(base))
    (d / 'norm_hist.png').write_bytes(b'png')
    return d


def _report(tmp_path, *args):
    out = tmp_path / 'report.md'
    proc = run_cli(
        [sys.executable, osp.join(REPO, 'tools/analysis_tools/demo_report.py'),
         *args, '--out', str(out)], check=False)
    return proc, out


def test_table_and_differences(tmp_path):
    good = _write(tmp_path, 'good', scene_object_norm_auroc=0.95,
                  retrieval_map=0.02, object_knn_top1=0.975,
                  retrieval_class_map=0.5, ooc_auroc=0.8,
                  ooc_auroc_by_score=dict(company=0.8, distance=0.4),
                  retrieval_class_map_by_score=dict(distance=0.45,
                                                    excess_distance=0.5))
    bad = _write(tmp_path, 'bad', scene_object_norm_auroc=0.5,
                 retrieval_map=0.01, object_knn_top1=0.96,
                 retrieval_class_map=0.3, ooc_auroc=0.74,
                 ooc_auroc_by_score=dict(company=0.74))
    base = _write(tmp_path, 'base', scene_object_norm_auroc=0.8,
                  retrieval_map=0.011, object_knn_top1=0.99,
                  retrieval_class_map=0.4, ooc_auroc=0.6,
                  ooc_auroc_by_score=dict(company=0.6, distance=0.5))
    proc, out = _report(tmp_path, '--run', f'A={good}', '--run',
                        f'B={bad}', '--run', f'base={base}', '--compare',
                        'A:base', '--compare', 'B:base')
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert '| metric | A | B | base | A vs base | B vs base |' in text
    # every metric once, with its differences from the baseline
    assert ('| scene/object norm AUROC | 0.950 | 0.500 | 0.800 | '
            'higher (+0.150) | lower (-0.300) |') in text
    assert ('| scene -> object retrieval mAP | 0.020 | 0.010 | 0.011 | '
            'within noise (+0.009) | within noise (-0.001) |') in text
    assert ('| object kNN top-1 | 0.975 | 0.960 | 0.990 | within noise '
            '(-0.015) | within noise (-0.030) |') in text
    assert ('| scene -> object class-level mAP | 0.500 | 0.300 | 0.400 | '
            'higher (+0.100) | lower (-0.100) |') in text
    # one out-of-context row per model; the candidate scores stay out
    ooc = [ln for ln in text.splitlines() if 'out-of-context' in ln]
    assert ooc == ['| out-of-context AUROC (unusual company) | 0.800 | '
                   '0.740 | 0.600 | higher (+0.200) | higher (+0.140) |']
    assert '`distance`' not in text and 'ranking' not in text
    assert '| scenes | 3 | 3 | 3 | – | – |' in text
    # the rule is stated once; the report compares, it does not judge
    assert text.count('*within noise*') == 1 and 'Noise: 0.05' in text
    for word in ('pass', 'PASS', 'FAIL', 'fail', 'Checks'):
        assert word not in text
    assert '[norm_hist.png](good/norm_hist.png)' in text


def test_unknown_compare_name_is_a_clear_error(tmp_path):
    base = _write(tmp_path, 'base')
    proc, _ = _report(tmp_path, '--run', f'base={base}', '--compare',
                      'HCL:base')
    assert proc.returncode != 0
    assert "'HCL'" in proc.stderr and 'not a --run' in proc.stderr


def test_transfer_table(tmp_path):
    """--transfer adds the suite's table: runs' names first, then the other
    inits, mean (+- std over several seeds), and the first column's
    differences."""
    base = _write(tmp_path, 'base')
    hcl = _write(tmp_path, 'hcl')
    table = dict(
        knn=dict(random=dict(metric='knn/top1', seeds={'0': 80.0},
                             mean=80.0, std=None),
                 HCL=dict(metric='knn/top1', seeds={'0': 94.5, '1': 94.5},
                          mean=94.5, std=0.0),
                 baseline=dict(metric='knn/top1', seeds={'0': 96.0},
                               mean=96.0, std=None)),
        linear=dict(HCL=dict(metric='accuracy/top1',
                             seeds={'0': 95.0, '1': 97.0}, mean=96.0,
                             std=1.4142)),
        seg=dict(HCL=dict(metric='mIoU', seeds={'0': 43.77, '1': 39.47},
                          mean=41.62, std=3.03),
                 baseline=dict(metric='mIoU', seeds={'0': 37, '1': 39},
                               mean=38.0, std=1.87),
                 random=dict(metric='mIoU', seeds={'0': 51.37, '1': 49.13},
                             mean=50.25, std=1.58)))
    path = tmp_path / 'transfer.json'
    path.write_text(json.dumps(table))
    (tmp_path / 'transfer.png').write_bytes(b'png')  # the suite's figure
    proc, out = _report(tmp_path, '--run', f'HCL={hcl}', '--run',
                        f'baseline={base}', '--transfer', str(path))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert '| task `metric` | HCL | baseline | random |' in text
    assert '| knn `knn/top1` | 94.50 | 96.00 | 80.00 |' in text
    assert '| linear `accuracy/top1` | 96.00 ± 1.41 | – | – |' in text
    knn = next(ln for ln in text.splitlines() if ln.startswith('- knn:'))
    # one seed of baseline and random: within 2% of the larger mean is noise
    assert knn == ('- knn: HCL − baseline -1.50 (within noise), '
                   'HCL − random +14.50 (higher)')
    assert '- linear: –' in text  # only HCL has a linear value
    # several seeds: twice the larger standard deviation is noise
    assert ('- seg: HCL − baseline +3.62 (within noise), HCL − random '
            '-8.63 (lower)') in text
    assert '- transfer: [transfer.png](transfer.png)' in text
    proc, _ = _report(tmp_path, '--run', f'HCL={hcl}', '--transfer',
                      str(tmp_path / 'missing.json'))
    assert proc.returncode != 0 and 'missing.json: no such file' in \
        proc.stderr
