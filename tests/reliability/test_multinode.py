"""Two "nodes" on localhost: ``tools/dist_train.sh`` with NNODES/NODE_RANK.

The multi-node launch of ``docs/training_fast.md`` is run for real: two launchers,
``NNODES=2 NODE_RANK=0`` and ``NNODES=2 NODE_RANK=1``, each ``bash
tools/dist_train.sh CONFIG 1`` (one process per node, torchrun's static
rendezvous at ``MASTER_ADDR=127.0.0.1`` and a free ``PORT``, gloo on the CPU),
train 3 iterations of the tiny HCL config. Each node gets its own work dir,
as on machines without a shared file system: node 0 writes the checkpoint,
node 1 only its rank's state (``DumpRankStateHook``). Checked: both launchers
exit 0, the process group had 2 processes with global ranks 0 and 1, the two
ranks read disjoint halves of every global batch, the queues received the
keys of both nodes, and rank 1 ends with exactly the weights, buffers and
queues of rank 0's checkpoint.
"""
import pytest
import torch

from hclmm.utils import safe_torch_load
from reliability_utils import DIST_CFG, PYTHON, free_port, launch_train

ITERS = 3  # DIST_CFG: 3 iterations, a checkpoint at the last one
LOCAL_BATCH = 2


def _load(path):
    return torch.load(path, map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def nodes(tmp_path_factory, toy_scenes):
    tmp = tmp_path_factory.mktemp('multinode')
    common = dict(
        NNODES='2', MASTER_ADDR='127.0.0.1', PORT=str(free_port()),
        PYTHON=PYTHON)
    launched = [
        launch_train(
            tmp / f'node{r}', tmp, f'node{r}', cfg=DIST_CFG,
            data_root=toy_scenes,
            options=[f'train_dataloader.batch_size={LOCAL_BATCH}'],
            extra=['--no-validate'],  # no val loop: this checks training
            env=dict(common, NODE_RANK=str(r)), nproc=1) for r in (0, 1)
    ]
    try:
        for node in launched:
            node.wait(timeout=240)
    finally:  # never leave a launcher waiting for its peer
        for node in launched:
            if node.proc.poll() is None:
                node.proc.kill()
                node.proc.wait()
    for node in launched:
        node.check()
    return dict(
        launched=launched,
        tmp=tmp,
        rank0=_load(tmp / 'node0' / 'rank0.pt'),
        rank1=_load(tmp / 'node1' / 'rank1.pt'),
        ckpt=safe_torch_load(str(tmp / 'node0' / f'iter_{ITERS}.pth')))


def test_both_nodes_trained_in_one_process_group(nodes):
    node0, node1 = nodes['launched']
    out0 = node0.stdout + node0.stderr
    assert 'Training finished (2 process(es))' in out0, node0.explain()
    assert f'Iter(train) [{ITERS}/{ITERS}]' in out0, node0.explain()
    tmp = nodes['tmp']
    # global ranks: node 0 holds rank 0 (and the checkpoint), node 1 rank 1
    assert (tmp / 'node0' / 'rank0.pt').is_file()
    assert (tmp / 'node1' / 'rank1.pt').is_file()
    assert not (tmp / 'node1' / 'rank0.pt').exists()
    assert not (tmp / 'node1' / f'iter_{ITERS}.pth').exists()
    r0, r1 = nodes['rank0'], nodes['rank1']
    assert len(r0['img_ids']) == len(r1['img_ids']) == ITERS
    for ids0, ids1 in zip(r0['img_ids'], r1['img_ids']):
        assert len(ids0) == len(ids1) == LOCAL_BATCH
        assert not set(ids0) & set(ids1)  # each node its own half
    # MoCo's and the hyperbolic queue gathered the keys of both nodes
    for state in (r0['state_dict'], r1['state_dict']):
        assert int(state['queue_ptr']) == ITERS * 2 * LOCAL_BATCH
        assert int(state['hyp_head.queue.ptr']) == ITERS * 2 * LOCAL_BATCH


def test_ranks_end_with_equal_weights(nodes):
    s0 = nodes['rank0']['state_dict']
    s1 = nodes['rank1']['state_dict']
    ckpt = nodes['ckpt']['state_dict']
    assert s0.keys() == s1.keys() == ckpt.keys()
    for key in s1:
        # DDP keeps the replicas bit-identical; rank 0's checkpoint is what
        # rank 0 held at the end
        assert torch.equal(s1[key], s0[key]), key
        assert torch.equal(s1[key], ckpt[key]), key
    # not vacuous: training moved the weights and the queues hold keys
    start = nodes['rank1']['initial_state']
    moved = max((s1[k] - start[k]).abs().max().item() for k in start
                if k.startswith('backbone.') and start[k].is_floating_point())
    assert moved > 1e-4
    assert s1['queue'].abs().sum() > 0
