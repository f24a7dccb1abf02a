"""Extract the online backbone of an hclmm pretraining checkpoint.

An hclmm pretraining checkpoint is an mmengine checkpoint of a whole
self-supervised algorithm: ``backbone.*`` (the online encoder), ``neck.*``,
the momentum encoder (``encoder_k.module.0.*`` for MoCo/DenseCL,
``target_net.module.0.*`` for BYOL), ``hyp_head.*``, plus ``meta``,
``message_hub`` and ``optimizer``. Transfer needs only the online backbone.

This tool keeps the keys under ``--prefix`` (default ``backbone.``), strips the
prefix and writes ``{'state_dict': {name: tensor}, 'meta': {...}}`` with
nothing but tensors and plain strings in it, so that mmdet, mmseg and
mmpretrain (``init_cfg=dict(type='Pretrained', checkpoint=OUT)``, no prefix)
and plain ``torch.load(OUT, weights_only=True)`` read it without importing
hclmm. The momentum encoder is never used.

Example::

    python tools/model_converters/extract_backbone_weights.py \\
        work_dirs/hcl-mocov2_resnet50/epoch_200.pth \\
        work_dirs/hcl-mocov2_resnet50/backbone.pth
"""
import argparse
import os
import os.path as osp
from collections import OrderedDict

import torch

# Prefixes of momentum (target) encoders in mmpretrain's SSL algorithms.
MOMENTUM_PREFIXES = ('encoder_k.', 'target_net.', 'momentum_encoder.',
                     'teacher.')


def load_state_dict(filename):
    """Load the ``state_dict`` of a checkpoint with weights-only loading.

    Importing :mod:`hclmm` allow-lists exactly the objects mmengine itself
    writes into checkpoints (message hub history, numpy scalars); anything
    else pickled in the file is refused, and an empty or truncated file is
    reported as such (:func:`hclmm.utils.safe_torch_load`).

    Args:
        filename (str): Path of the checkpoint.

    Returns:
        dict: The state dict (the file's ``state_dict`` entry, or the whole
        file when it is a plain mapping of tensors).
    """
    import hclmm  # noqa: F401  (makes mmengine checkpoints loadable)
    from hclmm.utils import safe_torch_load

    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint "{filename}" does not exist')
    # weights-only; names the file when it is empty, truncated or unsafe
    checkpoint = safe_torch_load(filename, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise TypeError(f'checkpoint "{filename}" holds a '
                        f'{type(checkpoint).__name__}, not a dict')
    state_dict = checkpoint.get('state_dict', checkpoint)
    # Checkpoints written from a DDP-wrapped model carry 'module.'.
    if state_dict and all(k.startswith('module.') for k in state_dict):
        state_dict = OrderedDict(
            (k[len('module.'):], v) for k, v in state_dict.items())
    return state_dict


def top_level_prefixes(state_dict):
    """The distinct first components of the keys, in order of appearance."""
    seen = OrderedDict()
    for key in state_dict:
        seen.setdefault(key.split('.', 1)[0], None)
    return list(seen)


def extract_backbone(state_dict, prefix='backbone.', source='checkpoint'):
    """Keep the tensors under ``prefix`` and strip it from their names.

    Args:
        state_dict (dict): The full state dict of a pretraining model.
        prefix (str): Prefix of the online backbone. A trailing dot is added
            when missing. Defaults to ``'backbone.'``.
        source (str): Name of the checkpoint, used in error messages.

    Returns:
        OrderedDict: ``{name without prefix: tensor}``.

    Raises:
        ValueError: When ``prefix`` names a momentum encoder or no key starts
            with it; the message lists the top-level prefixes present.
    """
    if not prefix.endswith('.'):
        prefix += '.'
    if prefix.startswith(MOMENTUM_PREFIXES):
        raise ValueError(
            f'prefix "{prefix}" is a momentum (target) encoder; transfer the '
            'online backbone instead (default prefix "backbone.")')
    backbone = OrderedDict((key[len(prefix):], value)
                           for key, value in state_dict.items()
                           if key.startswith(prefix))
    if not backbone:
        seen = top_level_prefixes(state_dict)
        hint = ''
        if {'conv1', 'layer1'} <= set(seen):
            hint = (' The keys look like a backbone already (conv1, layer1, '
                    '...): use this file directly, without a prefix.')
        raise ValueError(
            f'no keys start with "{prefix}" in {source}; top-level prefixes '
            f'seen: {", ".join(seen) if seen else "(none, empty state dict)"}.'
            f'{hint}')
    non_tensors = [k for k, v in backbone.items() if not torch.is_tensor(v)]
    if non_tensors:
        raise TypeError(f'non-tensor entries under "{prefix}" in {source}: '
                        f'{", ".join(non_tensors[:5])}')
    return backbone


def parse_args():
    parser = argparse.ArgumentParser(
        description='Extract the online backbone of a pretraining checkpoint '
        'into a tensors-only file that mmdet, mmseg and mmpretrain load as '
        '`init_cfg=dict(type="Pretrained", checkpoint=OUT)`.')
    parser.add_argument('checkpoint', help='pretraining checkpoint (input)')
    parser.add_argument('output', help='backbone weights file (output)')
    parser.add_argument(
        '--prefix',
        default='backbone.',
        help='prefix of the online backbone in the checkpoint '
        '(default: backbone.)')
    return parser.parse_args()


def main():
    args = parse_args()
    state_dict = load_state_dict(args.checkpoint)
    backbone = extract_backbone(
        state_dict, prefix=args.prefix, source=f'"{args.checkpoint}"')
    out_dir = osp.dirname(osp.abspath(args.output))
    os.makedirs(out_dir, exist_ok=True)
    torch.save(
        dict(
            state_dict=backbone,
            meta=dict(
                source=osp.basename(args.checkpoint),
                prefix=args.prefix,
                converter='hclmm extract_backbone_weights')), args.output)
    num_params = sum(v.numel() for v in backbone.values()
                     if v.is_floating_point())
    print(f'Extracted {len(backbone)} tensors ({num_params / 1e6:.2f} M '
          f'floating-point values) under "{args.prefix}" from '
          f'{args.checkpoint}')
    print(f'Wrote {args.output}')


if __name__ == '__main__':
    main()
