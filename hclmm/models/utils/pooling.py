"""Global vectors from backbone or neck outputs."""
import torch
import torch.nn.functional as F

__all__ = ['global_vector']


def global_vector(out, index: int = 0) -> torch.Tensor:
    """One tensor of a (nested) tuple/list output, global-average pooled to
    N x C when it is a feature map (N x C x H x W).

    Args:
        out (Tensor | tuple | list): A neck or backbone output.
        index (int): Which element of each tuple level: 0 for a neck's
            global projection, -1 for a backbone's last stage.
            Defaults to 0.
    """
    while isinstance(out, (tuple, list)):
        out = out[index]
    if out.dim() > 2:
        out = torch.flatten(F.adaptive_avg_pool2d(out, 1), 1)
    return out
