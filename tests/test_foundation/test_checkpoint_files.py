"""Checkpoint files that torch cannot read, and empty message-hub buffers.

* An empty, truncated or non-checkpoint file gives a
  ``CorruptCheckpointError`` that names the file and says what is wrong,
  from ``safe_torch_load``, mmengine's ``load_checkpoint`` (``load_from``),
  ``tools/train.py --resume`` and the backbone extractor.
* A checkpoint holding an empty mmengine ``HistoryBuffer`` (a metric
  registered but not updated yet) loads under weights-only loading: pickle
  protocol 2 writes its empty data as a call of the global ``bytes``, which
  is allowed in exactly that form. ``bytes(<huge>)`` and code-running
  pickles stay refused.
"""
import importlib.util
import io
import os
import os.path as osp
import pickletools
import zipfile

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import Runner, load_checkpoint

import hclmm  # noqa: F401  (enables the allow-list)
from hclmm.utils import (CorruptCheckpointError, UnsafeCheckpointError,
                         register_all_modules, safe_torch_load)
from hclmm_test_utils import REPO, run_cli

CFG = osp.join(osp.dirname(__file__), 'tiny_cls_config.py')


def _checkpoint(path, **extra):
    ckpt = {'meta': {'iter': 2}, 'state_dict': {'w': torch.randn(64, 64)}}
    ckpt.update(extra)
    torch.save(ckpt, path)
    return path


def _pickle_globals(path):
    """``module name`` of every GLOBAL opcode in a torch zip checkpoint."""
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith('data.pkl'))
        data = zf.read(name)
    return {arg for op, arg, _ in pickletools.genops(data)
            if op.name == 'GLOBAL'}


# --------------------------------------------------- broken checkpoint files
@pytest.fixture
def broken(tmp_path):
    good = _checkpoint(tmp_path / 'good.pth')
    data = good.read_bytes()
    files = dict(
        empty=(tmp_path / 'empty.pth', b''),
        half=(tmp_path / 'half.pth', data[:len(data) // 2]),
        head=(tmp_path / 'head.pth', data[:100]),
        html=(tmp_path / 'page.pth', b'<html><body>404 Not Found</body>'),
    )
    for path, content in files.values():
        path.write_bytes(content)
    return {k: str(v[0]) for k, v in files.items()}


@pytest.mark.parametrize('kind, words', [
    ('empty', 'the file is empty (0 bytes)'),
    ('half', 'the file is truncated'),
    ('head', 'the file is truncated (100 bytes)'),
    ('html', 'the file is not a PyTorch checkpoint'),
])
def test_safe_torch_load_names_file_and_problem(broken, kind, words):
    with pytest.raises(CorruptCheckpointError) as e:
        safe_torch_load(broken[kind])
    msg = str(e.value)
    assert f'Cannot load checkpoint "{broken[kind]}"' in msg
    assert words in msg, msg


def test_truncated_legacy_format_is_named(tmp_path):
    legacy = tmp_path / 'legacy.pth'
    torch.save({'w': torch.randn(64, 64)}, legacy,
               _use_new_zipfile_serialization=False)
    data = legacy.read_bytes()
    legacy.write_bytes(data[:len(data) // 2])
    with pytest.raises(CorruptCheckpointError, match='legacy.pth.*truncated'):
        safe_torch_load(str(legacy))


def test_load_from_path_names_empty_file(broken):
    # mmengine's load_checkpoint is what load_from and Pretrained use
    with pytest.raises(CorruptCheckpointError,
                       match=r'empty\.pth.*empty \(0 bytes\)'):
        load_checkpoint(torch.nn.Linear(1, 1), broken['empty'])


def test_extract_tool_names_truncated_file(broken):
    spec = importlib.util.spec_from_file_location(
        'extract_backbone_weights',
        osp.join(REPO, 'tools', 'model_converters',
                 'extract_backbone_weights.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(CorruptCheckpointError, match='half.pth.*truncated'):
        tool.load_state_dict(broken['half'])


def test_train_tool_resume_from_empty_file(broken, tmp_path,
                                           tiny_image_folder, python):
    proc = run_cli([
        python, 'tools/train.py', CFG, '--work-dir',
        str(tmp_path / 'work'), '--resume', broken['empty'],
        '--cfg-options',
        f'train_dataloader.dataset.data_root={tiny_image_folder}'
    ], check=False)
    assert proc.returncode != 0
    assert 'CorruptCheckpointError' in proc.stderr, proc.stderr[-3000:]
    assert f'Cannot load checkpoint "{broken["empty"]}": the file is empty ' \
        '(0 bytes)' in proc.stderr
    assert 'Iter(train)' not in proc.stdout + proc.stderr


def test_good_file_and_other_errors_are_untouched(tmp_path, broken):
    good = str(tmp_path / 'good.pth')
    assert safe_torch_load(good)['meta']['iter'] == 2
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        safe_torch_load(str(tmp_path / 'nope.pth'))


# ------------------------------------------------- empty HistoryBuffer in it
def _register_empty_buffer(hub):
    """Register ``val/accuracy`` (saved with checkpoints) without a value."""
    hub.load_state_dict(
        dict(log_scalars={'val/accuracy': HistoryBuffer()}, runtime_info={},
             resumed_keys={'val/accuracy': True}))
    return hub


def _hub_with_empty_buffer():
    hub = MessageHub('hclmm_test_empty_buffer')
    hub.update_scalar('train/loss', 0.5)
    return _register_empty_buffer(hub)


def test_protocol_2_file_with_empty_history_buffer_loads(tmp_path):
    path = tmp_path / 'hub.pth'
    _checkpoint(path, message_hub=_hub_with_empty_buffer().state_dict())
    # the file really calls the global ``bytes`` (protocol 2, b'')
    assert '__builtin__ bytes' in _pickle_globals(path)
    loaded = safe_torch_load(str(path))
    empty = loaded['message_hub']['log_scalars']['val/accuracy']
    assert isinstance(empty, HistoryBuffer)
    assert len(empty.data[0]) == 0 and len(empty.data[1]) == 0
    full = loaded['message_hub']['log_scalars']['train/loss']
    assert full.current() == 0.5


def test_runner_checkpoint_with_empty_history_buffer_loads(
        tmp_path, tiny_image_folder):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(CFG)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_dataloader.dataset.data_root = str(tiny_image_folder)
    runner = Runner.from_cfg(cfg)
    _register_empty_buffer(runner.message_hub)
    runner.save_checkpoint(
        runner.work_dir, 'empty_buffer.pth', save_optimizer=False,
        save_param_scheduler=False)
    path = osp.join(runner.work_dir, 'empty_buffer.pth')
    assert '__builtin__ bytes' in _pickle_globals(path)
    loaded = safe_torch_load(path)
    assert len(loaded['message_hub']['log_scalars']['val/accuracy'].data[0]) \
        == 0
    # and the runner resumes from it
    resumed = Runner.from_cfg(cfg)
    resumed.resume(path, resume_optimizer=False, resume_param_scheduler=False)
    assert 'val/accuracy' in resumed.message_hub.log_scalars


class _Call:
    """Pickles as ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def test_bytes_with_a_size_is_refused_without_allocating(tmp_path):
    bomb = _checkpoint(tmp_path / 'bomb.pth', meta=_Call(bytes, 10**12))
    with pytest.raises(UnsafeCheckpointError) as e:
        safe_torch_load(str(bomb))
    assert 'bomb.pth' in str(e.value)
    assert 'bytes(1000000000000) is not allowed' in str(e.value)
    other = _checkpoint(tmp_path / 'other.pth', meta=_Call(bytes, [1, 2]))
    with pytest.raises(UnsafeCheckpointError, match='bytes'):
        safe_torch_load(str(other))


@pytest.mark.parametrize('zip_format', [True, False])
def test_code_running_pickle_is_still_refused(tmp_path, zip_format):
    marker = tmp_path / 'ran'
    evil = tmp_path / 'evil.pth'
    torch.save({'message_hub': _hub_with_empty_buffer().state_dict(),
                'meta': _Call(os.mkdir, str(marker))}, evil,
               _use_new_zipfile_serialization=zip_format)
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        safe_torch_load(str(evil))
    with pytest.raises(UnsafeCheckpointError, match='allow-list'):
        load_checkpoint(torch.nn.Linear(1, 1), str(evil))
    assert not marker.exists()
    # plain torch.load with the allow-list active refuses it as well
    with pytest.raises(Exception):
        torch.load(io.BytesIO(evil.read_bytes()), weights_only=True)
    assert not marker.exists()
