"""Print the ``init_cfg`` prefix that loads a backbone from a weights file.

Used by the benchmark launch scripts so that PRETRAIN may be either

* a backbone file written by ``tools/model_converters/
  extract_backbone_weights.py`` (keys ``conv1.weight``, ``layer1.0...``):
  prints ``None`` (load without a prefix), or
* a raw hclmm pretraining checkpoint (keys ``backbone.*``, ``neck.*``, the
  momentum encoder, ...): prints ``backbone.``.

Anything else stops the launch with an error that names the file and the
top-level key prefixes it holds, instead of a training run whose backbone
silently matched nothing.

Usage: ``python tools/benchmarks/pretrain_prefix.py PRETRAIN``
"""
import argparse
import importlib.util
import os.path as osp
import pickle
import sys


def _extractor():
    path = osp.join(
        osp.dirname(osp.dirname(osp.abspath(__file__))), 'model_converters',
        'extract_backbone_weights.py')
    spec = importlib.util.spec_from_file_location('extract_backbone_weights',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _state_dict(filename):
    """Weights-only load; hclmm's allow-list only for raw mmengine files."""
    import torch
    try:
        checkpoint = torch.load(
            filename, map_location='cpu', weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError):
        # a raw pretraining checkpoint (message hub, numpy scalars inside),
        # or a broken file, which hclmm's loader names and explains
        return _extractor().load_state_dict(filename)
    state_dict = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else {}
    return state_dict


def backbone_prefix(filename):
    """Return ``'backbone.'``, ``None`` or raise ``ValueError``."""
    if not osp.isfile(filename):
        raise FileNotFoundError(f'"{filename}" does not exist')
    prefixes = _extractor().top_level_prefixes(_state_dict(filename))
    if 'backbone' in prefixes:
        return 'backbone.'
    if {'conv1', 'layer1'} <= set(prefixes):
        return None
    raise ValueError(
        f'"{filename}" is neither a pretraining checkpoint (keys backbone.*) '
        'nor an extracted ResNet backbone (keys conv1.*, layer1.*); '
        f'top-level prefixes seen: {", ".join(prefixes) or "(none)"}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('pretrain', help='backbone or pretraining checkpoint')
    args = parser.parse_args()
    try:
        prefix = backbone_prefix(args.pretrain)
    except (ValueError, OSError, pickle.UnpicklingError) as exc:
        print(f'ERROR: {exc}', file=sys.stderr)
        sys.exit(1)
    print('None' if prefix is None else prefix)


if __name__ == '__main__':
    main()
