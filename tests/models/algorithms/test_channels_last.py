"""``channels_last=True``: the same training numbers as channels-first, with
the weights (online and momentum) and the input views in NHWC layout."""
import torch
from mmengine.optim import OptimWrapper

from test_hcl import PRE, base_cfg, batch, hyp_head

from hclmm.registry import MODELS


def _train(channels_last, steps=2):
    cfg = base_cfg('HCLMoCo')
    cfg.update(data_preprocessor=PRE, channels_last=channels_last,
               hyp_head=hyp_head(online_pair=True, scale_norm=1.5,
                                 entailment_weight=0.3))
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    wrapper = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    seen = []
    model.backbone.conv1.register_forward_pre_hook(
        lambda m, args: seen.append(
            args[0].is_contiguous(memory_format=torch.channels_last)))
    logs = [model.train_step(batch(seed=s), wrapper) for s in range(steps)]
    return model, logs, seen


def test_channels_last_matches_channels_first():
    fast, fast_logs, fast_seen = _train(True)
    ref, ref_logs, ref_seen = _train(False)
    nhwc = torch.channels_last
    assert fast.backbone.conv1.weight.is_contiguous(memory_format=nhwc)
    assert fast.encoder_k.module[0].conv1.weight.is_contiguous(
        memory_format=nhwc)
    assert all(fast_seen) and not any(ref_seen)
    for a, b in zip(fast_logs, ref_logs):
        assert a.keys() == b.keys()
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5)
    fast_state, ref_state = fast.state_dict(), ref.state_dict()
    assert fast_state.keys() == ref_state.keys()
    # weights, BatchNorm statistics and queues after two steps: equal up to
    # float32 summation order
    for key, value in ref_state.items():
        torch.testing.assert_close(fast_state[key], value, rtol=1e-3,
                                   atol=1e-3)
    # a channels-first checkpoint loads into the channels-last model
    fast.load_state_dict(ref_state)
    assert fast.backbone.conv1.weight.is_contiguous(memory_format=nhwc)
    assert torch.equal(fast.backbone.conv1.weight,
                       ref.backbone.conv1.weight)
