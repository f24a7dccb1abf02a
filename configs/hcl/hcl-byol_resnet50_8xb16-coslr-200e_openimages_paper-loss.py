# The paper-loss twin of `hcl-byol_resnet50_8xb16-coslr-200e_openimages.py`: the reference's hyperbolic
# InfoNCE alone (clip 4.6, c 0.05, T 0.2, weight 0.1), without the scale
# normalisation, the online pair, the entailment cone and norm-only gradients.
# On one GPU every norm reached the clipping sphere within the first epoch
# (docs/hcl.md); HyperbolicSaturationHook warns when that happens.
_base_ = ['./hcl-byol_resnet50_8xb16-coslr-200e_openimages.py']

model = dict(
    hyp_head=dict(
        online_pair=False,
        embedder=dict(scale_norm=None, norm_only_grad=False),
        pair_losses=dict(_delete_=True)))
