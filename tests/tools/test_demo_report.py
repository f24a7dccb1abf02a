"""The demo report: table, checks against the baseline, clear errors."""
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


def test_table_and_checks(tmp_path):
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
    assert '| metric | A | B | base |' in text
    assert '| scene/object norm AUROC | 0.950 | 0.500 | 0.800 |' in text
    assert ('| out-of-context AUROC (default score) | 0.800 | 0.740 | '
            '0.600 |') in text
    assert ('| out-of-context AUROC, score `distance` | 0.400 | n/a | '
            '0.500 |') in text
    assert '| scene -> object class-level mAP | 0.500 | 0.300 | 0.400 |' \
        in text
    assert '| class-level mAP, ranking `distance` | 0.450 | n/a | n/a |' \
        in text
    checks = [ln for ln in text.splitlines() if ln.startswith('- A:') and '**' in ln]
    assert len(checks) == 5 and all(ln.endswith('**pass**') for ln in checks)
    # B: AUROC below 0.9, mAP not above, kNN 3 points below, class mAP not
    # above, out-of-context AUROC below 0.75
    checks = [ln for ln in text.splitlines() if ln.startswith('- B:') and '**' in ln]
    assert len(checks) == 5 and all(ln.endswith('**FAIL**') for ln in checks)
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
                             std=1.4142)))
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
    assert knn == '- knn: HCL − baseline -1.50, HCL − random +14.50'
    assert '- linear: –' in text  # only HCL has a linear value
    assert '- transfer: [transfer.png](transfer.png)' in text
    proc, _ = _report(tmp_path, '--run', f'HCL={hcl}', '--transfer',
                      str(tmp_path / 'missing.json'))
    assert proc.returncode != 0 and 'missing.json: no such file' in \
        proc.stderr
