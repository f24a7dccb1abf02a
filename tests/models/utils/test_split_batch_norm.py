"""SplitBatchNorm against a naive reference: one nn.BatchNorm2d per group."""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.registry import DefaultScope
from mmpretrain.models import ResNet

from hclmm.models.utils import SplitBatchNorm
from hclmm.utils import register_all_modules

register_all_modules(init_default_scope=False)


def _randomised(bn):
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    return bn


def test_training_normalises_each_group_with_its_own_statistics():
    torch.manual_seed(0)
    x = torch.randn(12, 3, 4, 4) * 3 + 1
    split = _randomised(SplitBatchNorm(3, num_splits=3))
    ref = nn.BatchNorm2d(3)
    ref.load_state_dict(split.state_dict())
    out = split(x)
    expected = torch.cat([ref(g) for g in x.split(4)])
    torch.testing.assert_close(out, expected)
    # running statistics: the momentum step towards the groups' average
    means = torch.stack([g.mean((0, 2, 3)) for g in x.split(4)]).mean(0)
    variances = torch.stack([g.var((0, 2, 3)) for g in x.split(4)]).mean(0)
    # the module lerps (1 + 0.1 * (v - 1)), the reference sums: float32
    # rounding of a few operations on values near 1, far below 1e-5
    torch.testing.assert_close(split.running_mean, 0.1 * means,
                               rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(split.running_var, 0.9 + 0.1 * variances,
                               rtol=1e-5, atol=1e-5)
    assert int(split.num_batches_tracked) == 1


def test_a_sample_depends_on_its_own_group_only():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 4, 4)
    split = SplitBatchNorm(3, num_splits=2)
    out = split(x)
    changed = x.clone()
    changed[4:] = torch.randn(4, 3, 4, 4) * 5  # the other group
    torch.testing.assert_close(split(changed)[:4], out[:4])
    changed[1] += 3.0  # a sample of the same group
    assert not torch.allclose(split(changed)[0], out[0])


def test_uneven_and_small_batches():
    torch.manual_seed(0)
    split = SplitBatchNorm(2, num_splits=4)
    ref = nn.BatchNorm2d(2)
    x = torch.randn(7, 2, 3, 3)  # 4 groups: 2, 2, 2, 1 would leave one alone
    expected = torch.cat([ref(g) for g in x.tensor_split(3)])
    torch.testing.assert_close(split(x), expected)
    # a batch of 2 or 3 is one group: plain BatchNorm
    x = torch.randn(3, 2, 3, 3)
    torch.testing.assert_close(split(x), nn.BatchNorm2d(2)(x))


def test_evaluation_and_checkpoints_are_plain_batch_norm():
    torch.manual_seed(0)
    split = _randomised(SplitBatchNorm(3, num_splits=4))
    for _ in range(3):
        split(torch.randn(16, 3, 4, 4))
    plain = nn.BatchNorm2d(3)
    plain.load_state_dict(split.state_dict())  # same names and shapes
    split.eval()
    plain.eval()
    x = torch.randn(5, 3, 4, 4)
    torch.testing.assert_close(split(x), plain(x))


def test_a_backbone_built_with_it_keeps_the_plain_checkpoint_keys():
    with DefaultScope.overwrite_default_scope('hclmm'):
        split = ResNet(
            depth=18, norm_cfg=dict(type='SplitBatchNorm', num_splits=4))
    plain = ResNet(depth=18)
    assert isinstance(split.bn1, SplitBatchNorm)
    assert split.state_dict().keys() == plain.state_dict().keys()
    plain.load_state_dict(copy.deepcopy(split.state_dict()))


def test_a_permuted_batch_changes_the_keys_only_when_split():
    """MoCo's shuffle on one process: the same batch permuted. Plain
    BatchNorm gives every sample the same output (the leak); split groups
    give a sample other statistics."""
    torch.manual_seed(0)
    x = torch.randn(8, 3, 4, 4)
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(1))
    undo = torch.argsort(perm)
    plain, split = nn.BatchNorm2d(3), SplitBatchNorm(3, num_splits=4)
    # the same statistics summed in another order: float32 rounding over
    # 128 values per channel (about 1e-6 on outputs of order 1)
    torch.testing.assert_close(plain(x[perm])[undo], plain(x),
                               rtol=1e-5, atol=1e-5)
    assert not torch.allclose(split(x[perm])[undo], split(x))


def test_bad_split_count_is_a_clear_error():
    with pytest.raises(ValueError, match='num_splits must be >= 1'):
        SplitBatchNorm(3, num_splits=0)
