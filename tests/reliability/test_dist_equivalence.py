"""Two processes (torchrun, gloo, CPU) train HCL like one process does.

``tools/dist_train.sh CONFIG 2`` with a local batch of 2 and
``tools/train.py CONFIG`` with a batch of 4 run 3 iterations of HCL on
MoCo v2 (real DDP, MoCo's batch shuffle across processes, the all-gathers of
MoCo's queue and of the hyperbolic queue). The single process reads the
global batches in the order the all-gather concatenates them, the data
pipeline draws its random numbers from the sample index, and the backbone
uses GroupNorm (see the config), so both runs must agree up to float
rounding: losses (mean of the two ranks' losses) to rtol 1e-5, weights and
queues to atol 1e-5 plus 1e-3 of how far training moved each weight tensor.
"""
import pytest
import torch

from hclmm.utils import safe_torch_load
from reliability_utils import DIST_CFG, launch_train

ATOL = 1e-5
UPDATE_RTOL = 1e-3


@pytest.fixture(scope='module')
def runs(tmp_path_factory, toy_scenes):
    tmp = tmp_path_factory.mktemp('dist_equivalence')
    dist = launch_train(
        tmp / 'two', tmp, 'two', cfg=DIST_CFG, data_root=toy_scenes,
        options=['train_dataloader.batch_size=2'], nproc=2)
    single = launch_train(
        tmp / 'one', tmp, 'one', cfg=DIST_CFG, data_root=toy_scenes,
        options=[
            'train_dataloader.batch_size=4',
            'train_dataloader.sampler.type=GlobalBatchOrderSampler',
            'train_dataloader.sampler.world_size=2',
            'train_dataloader.sampler.local_batch_size=2'
        ])
    dist.wait().check()
    single.wait().check()

    def load(path):
        return torch.load(path, map_location='cpu', weights_only=True)

    return dict(
        dist=dist,
        rank0=load(tmp / 'two' / 'rank0.pt'),
        rank1=load(tmp / 'two' / 'rank1.pt'),
        one=load(tmp / 'one' / 'rank0.pt'),
        ckpt_two=safe_torch_load(str(tmp / 'two' / 'iter_3.pth')),
        ckpt_one=safe_torch_load(str(tmp / 'one' / 'iter_3.pth')))


def test_two_processes_really_trained_together(runs):
    out = runs['dist'].stdout + runs['dist'].stderr
    assert 'Training finished (2 process(es))' in out, runs['dist'].explain()
    # each rank saw its own half of every global batch
    one, r0, r1 = runs['one'], runs['rank0'], runs['rank1']
    assert len(one['img_ids']) == len(r0['img_ids']) == 3
    for step, ids in enumerate(one['img_ids']):
        assert len(r0['img_ids'][step]) == len(r1['img_ids'][step]) == 2
        assert not set(r0['img_ids'][step]) & set(r1['img_ids'][step])
        assert ids == r0['img_ids'][step] + r1['img_ids'][step], step
    # the queues received the keys of both processes: 3 steps x 4 keys
    for state in (r0['state_dict'], r1['state_dict']):
        assert int(state['queue_ptr']) == 12
        assert int(state['hyp_head.queue.ptr']) == 12


def test_ranks_hold_identical_weights_and_queues(runs):
    s0, s1 = runs['rank0']['state_dict'], runs['rank1']['state_dict']
    assert s0.keys() == s1.keys()
    for key in s0:
        assert torch.equal(s0[key], s1[key]), key


def test_losses_match_single_process(runs):
    one, r0, r1 = runs['one'], runs['rank0'], runs['rank1']
    for step in range(3):
        for key in ('loss', 'loss_hyp'):
            # each rank logs the mean over its local half of the batch
            mean_of_ranks = (r0['logged'][step][key] +
                             r1['logged'][step][key]) / 2
            assert mean_of_ranks == pytest.approx(
                one['logged'][step][key], rel=1e-5, abs=1e-6), (step, key)
    # the test is not vacuous: the hyperbolic loss is active and the two
    # ranks' halves of a batch have different losses
    assert one['logged'][2]['loss_hyp'] > 1e-3
    assert r0['logged'][2]['loss'] != r1['logged'][2]['loss']


def test_weights_and_queues_match_single_process(runs):
    one = runs['ckpt_one']['state_dict']
    two = runs['ckpt_two']['state_dict']
    start = runs['one']['initial_state']
    assert one.keys() == two.keys()
    for key, value in one.items():
        if value.is_floating_point():
            # float rounding of sums over a batch split in two grows with
            # the size of the updates: ATOL plus 1e-3 of how far training
            # moved the tensor (the stem's weights move most)
            moved = (value - start[key]).abs().max().item() \
                if key in start else 0.0
            torch.testing.assert_close(
                two[key], value, atol=ATOL + UPDATE_RTOL * moved, rtol=0,
                msg=key)
        else:
            assert torch.equal(two[key], value), key
    for key in ('queue', 'hyp_head.queue.keys'):
        # same keys in the same order (the single process reads the global
        # batch in gather order)
        torch.testing.assert_close(two[key], one[key], atol=ATOL, rtol=0)
    # the tolerance is meaningful: training moved the weights far beyond it
    start = runs['one']['initial_state']
    moved = max((one[k] - start[k]).abs().max().item() for k in start
                if k.startswith('backbone.') and start[k].is_floating_point())
    assert moved > 100 * ATOL
