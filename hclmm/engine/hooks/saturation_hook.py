"""A loud alarm when the hyperbolic branch saturates."""
from typing import Optional

from mmengine.hooks import Hook

from hclmm.registry import HOOKS

__all__ = ['HyperbolicSaturationHook']


def _value(outputs: dict, key: str) -> Optional[float]:
    value = outputs.get(key) if isinstance(outputs, dict) else None
    if value is None:
        return None
    return float(value)


@HOOKS.register_module()
class HyperbolicSaturationHook(Hook):
    """Warn when the scene and object embeddings saturate while training.

    The hyperbolic head logs, every iteration, the fraction of scene and
    object points on the clipping sphere (or at the edge of the manifold's
    domain without clipping), ``scene_sat``/``object_sat``, and the standard
    deviation of their norms, ``norm_spread``; they reach the log and every
    visualizer backend (TensorBoard) with the losses. When, for
    ``patience`` consecutive iterations, at least ``sat_thresh`` of both
    scenes and objects are saturated, or the norm spread is below
    ``spread_thresh``, no scene-object hierarchy can form: all norms are
    equal and clipping has removed their gradient. The hook then writes one
    WARNING that says what happened, why, and the fix; it writes it again
    if the state persists for ``repeat`` more iterations. Models without a
    hyperbolic head (the baseline twins) log none of these values and the
    hook stays silent.

    Args:
        patience (int): Consecutive iterations before warning.
            Defaults to 10.
        sat_thresh (float): Saturated fraction that counts as saturated.
            Defaults to 0.9.
        spread_thresh (float): Norm spread (hyperbolic distance) that
            counts as collapsed. Defaults to 0.01.
        repeat (int): Iterations between repeated warnings. Defaults to
            1000.
    """

    priority = 'LOW'

    def __init__(self,
                 patience: int = 10,
                 sat_thresh: float = 0.9,
                 spread_thresh: float = 0.01,
                 repeat: int = 1000) -> None:
        if patience < 1 or repeat < 1:
            raise ValueError('patience and repeat must be >= 1')
        self.patience = int(patience)
        self.sat_thresh = float(sat_thresh)
        self.spread_thresh = float(spread_thresh)
        self.repeat = int(repeat)
        self.streak = 0
        self.since = None
        self.warnings = 0
        self.last_warned = None

    def _diagnose(self, outputs) -> Optional[str]:
        scene = _value(outputs, 'scene_sat')
        obj = _value(outputs, 'object_sat')
        spread = _value(outputs, 'norm_spread')
        if scene is None and obj is None and spread is None:
            return None
        if scene is not None and obj is not None and \
                min(scene, obj) >= self.sat_thresh:
            return (f'{scene:.0%} of scene and {obj:.0%} of object points '
                    'sit on the clipping sphere (or the edge of the '
                    'manifold)')
        if spread is not None and spread < self.spread_thresh:
            return (f'the norms of scenes and objects have collapsed to one '
                    f'value (spread {spread:.2g} < {self.spread_thresh})')
        return None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        what = self._diagnose(outputs or {})
        if what is None:
            self.streak, self.since = 0, None
            return
        if self.since is None:
            self.since = runner.iter
        self.streak += 1
        if self.streak < self.patience:
            return
        if self.last_warned is not None and \
                runner.iter - self.last_warned < self.repeat:
            return
        self.last_warned = runner.iter
        self.warnings += 1
        runner.logger.warning(
            f'The hyperbolic branch is saturated: {what} for '
            f'{self.streak} iterations since iteration {self.since + 1}. '
            'All norms are then equal and clipping removes their gradient, '
            'so no scene-object hierarchy can form however long training '
            'runs (docs/hcl.md, "The recipe\'s options"). Fix: normalise the scale of the projections '
            '(model.hyp_head.embedder.scale_norm=3.0) with the online pair '
            'and the entailment cone, i.e. the recipe of '
            'configs/_base_/models/hcl_head.py, or lower '
            'model.hyp_head.embedder.feature_scale.')
