from .dcl_loss import DCLLoss, dcl_loss, vmf_positive_weights
from .dclw_loss import DCLWLoss
from .entailment_cone import EntailmentConeLoss, cone_violation
from .hyperbolic_infonce import (HyperbolicInfoNCELoss, hyperbolic_infonce,
                                 hyperbolic_logits)
from .hyperbolic_supcon import HyperbolicSupConLoss, hyperbolic_supcon
from .mv_dhel import MVDHELLoss, mv_dhel
from .mv_infonce import MVInfoNCELoss, mv_infonce
from .snclr_loss import SNCLRLoss, snclr_loss

__all__ = [
    'HyperbolicInfoNCELoss', 'hyperbolic_infonce', 'hyperbolic_logits',
    'HyperbolicSupConLoss', 'hyperbolic_supcon', 'DCLLoss', 'DCLWLoss',
    'dcl_loss', 'vmf_positive_weights', 'SNCLRLoss', 'snclr_loss',
    'EntailmentConeLoss', 'cone_violation', 'MVInfoNCELoss', 'mv_infonce',
    'MVDHELLoss', 'mv_dhel'
]
