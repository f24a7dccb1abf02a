"""``channels_last=True``: the same training numbers as channels-first, with
the weights (online and momentum) and the input views in NHWC layout.

Where the tolerances come from. The two layouts run the same arithmetic in
another summation order, and float32 summation order is the CPU kernel's
choice (oneDNN or not, its blocking, the thread count), not the model's.
Measured on one CPU with 1 and 2 threads and with oneDNN off:

- the first step's forward pass starts from the same weights, so its
  outputs differ by the rounding of one pass: at most 1.4e-5 relative,
  compared in float32 at ``rtol=1e-4``;
- after an SGD step the weights already differ by that rounding, and the
  next step amplifies it: 1.3e-4 to 8.2e-4 relative on the step-2 outputs
  and 8e-3 absolute on the weights, depending on the thread count alone.
  No float32 tolerance is right on every CPU there, so the training steps
  are compared in float64, where three steps differ by at most 3.1e-11
  relative (outputs) and 1.5e-9 absolute (weights and statistics): a bound
  of ``1e-7`` relative to each value, or to the largest entry of its tensor,
  leaves a margin of a hundred or more on any kernel and still catches a
  real difference between the layouts (a wrong permutation or a missed
  weight moves the numbers by 1e-2).
"""
import pytest
import torch
from mmengine.optim import OptimWrapper

from test_hcl import PRE, base_cfg, batch, hyp_head

from hclmm.registry import MODELS


def _build(channels_last, dtype):
    cfg = base_cfg('HCLMoCo')
    cfg.update(data_preprocessor=PRE, channels_last=channels_last,
               hyp_head=hyp_head(online_pair=True, scale_norm=1.5,
                                 entailment_weight=0.3))
    torch.manual_seed(0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model = MODELS.build(cfg).to(dtype)
    finally:
        torch.set_default_dtype(default)
    return model


def _train(channels_last, steps=2, dtype=torch.float32):
    model = _build(channels_last, dtype)
    wrapper = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    seen = []
    model.backbone.conv1.register_forward_pre_hook(
        lambda m, args: seen.append(
            (args[0].is_contiguous(memory_format=torch.channels_last),
             args[0].dtype)))
    logs = [model.train_step(batch(seed=s), wrapper) for s in range(steps)]
    return model, logs, seen


def _assert_logs_close(fast_logs, ref_logs, **tol):
    for a, b in zip(fast_logs, ref_logs):
        assert a.keys() == b.keys()
        for key in a:
            torch.testing.assert_close(a[key], b[key], **tol)


def test_channels_last_layout_and_first_step_float32():
    fast, fast_logs, fast_seen = _train(True, steps=1)
    ref, ref_logs, ref_seen = _train(False, steps=1)
    nhwc = torch.channels_last
    assert fast.backbone.conv1.weight.is_contiguous(memory_format=nhwc)
    assert fast.encoder_k.module[0].conv1.weight.is_contiguous(
        memory_format=nhwc)
    assert all(is_nhwc for is_nhwc, _ in fast_seen)
    assert not any(is_nhwc for is_nhwc, _ in ref_seen)
    # the same weights, one forward pass: float32 rounding only
    _assert_logs_close(fast_logs, ref_logs, rtol=1e-4, atol=1e-5)
    # a channels-first checkpoint loads into the channels-last model
    fast.load_state_dict(ref.state_dict())
    assert fast.backbone.conv1.weight.is_contiguous(memory_format=nhwc)
    assert torch.equal(fast.backbone.conv1.weight,
                       ref.backbone.conv1.weight)


@pytest.mark.parametrize('steps', [3])
def test_channels_last_trains_like_channels_first_float64(steps):
    fast, fast_logs, fast_seen = _train(True, steps, torch.float64)
    ref, ref_logs, ref_seen = _train(False, steps, torch.float64)
    assert all(dtype == torch.float64 for _, dtype in fast_seen + ref_seen)
    assert all(is_nhwc for is_nhwc, _ in fast_seen)
    # every step's losses and norms (see the module docstring for the bound)
    _assert_logs_close(fast_logs, ref_logs, rtol=1e-7, atol=1e-12)
    fast_state, ref_state = fast.state_dict(), ref.state_dict()
    assert fast_state.keys() == ref_state.keys()
    # weights, BatchNorm statistics and queues after the steps, each to
    # 1e-7 of its tensor's largest entry
    for key, value in ref_state.items():
        scale = value.abs().max().item() if value.is_floating_point() else 0
        torch.testing.assert_close(fast_state[key], value, rtol=1e-7,
                                   atol=1e-7 * scale + 1e-12, msg=key)
    # the steps did train: the weights moved
    start = _build(False, torch.float64).state_dict()
    assert not torch.equal(start['backbone.conv1.weight'],
                           ref_state['backbone.conv1.weight'])
