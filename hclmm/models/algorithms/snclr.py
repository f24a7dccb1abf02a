"""SNCLR: soft neighbours as positive supporters (Ge et al., ICLR 2023)."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.selfsup.mocov3 import MoCoV3
from mmpretrain.structures import DataSample

from hclmm.registry import MODELS
from ..utils import KeyQueue, rename_state_keys

__all__ = ['SNCLR']


@MODELS.register_module()
class SNCLR(MoCoV3):
    """Soft-neighbour contrastive learning on top of mmpretrain's MoCo v3.

    Online branch: backbone, projector (``neck``) and the head's predictor;
    momentum branch: a cosine-EMA copy of backbone and projector (MoCo v3's
    ``momentum_encoder``). A FIFO *candidate bank* holds L2-normalised
    momentum keys of earlier batches, gathered from every process. For each
    view, the other view's key selects its top-K bank entries by cosine
    similarity; the head scores their positiveness with a cross-attention
    module and applies the soft-neighbour loss (the key itself is a full
    positive, the other samples' candidate sets are the negatives). The loss
    is symmetric over the two views. The bank is searched before this
    batch's keys are added, so a sample never meets its own other view
    among its neighbours.

    The bank (a :class:`~hclmm.models.utils.KeyQueue`) is a set of buffers and
    is saved in checkpoints; until it holds K entries every filled entry is
    used (none at the first step). State-dict keys are MoCo v3's plus
    ``head.attention.*`` and the bank.

    Args:
        backbone (dict): Config of the backbone.
        neck (dict): Config of the projector.
        head (dict): Config of :class:`~hclmm.models.heads.SNCLRHead`.
        bank_size (int): Number of candidates kept. Defaults to 98304 (the
            authors' default; their recipe uses 128000).
        topk (int): Neighbours K taken per sample. Defaults to 5 (30 in
            the recipe).
        feat_dim (int): Dimension of the projections. Defaults to 256.
        base_momentum (float): Base momentum of the cosine EMA (mmengine
            convention, 0.01 is a paper momentum of 0.99). Defaults to 0.01.
        pretrained (str, optional): Checkpoint to initialise from.
            Defaults to None.
        data_preprocessor (dict, optional): Config of the data
            preprocessor. Defaults to None.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 bank_size: int = 98304,
                 topk: int = 5,
                 feat_dim: int = 256,
                 base_momentum: float = 0.01,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        if bank_size < 1 or topk < 1 or topk > bank_size:
            raise ValueError('SNCLR needs 1 <= topk <= bank_size, got '
                             f'topk={topk}, bank_size={bank_size}.')
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            base_momentum=base_momentum,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.bank_size = bank_size
        self.topk = topk
        self.feat_dim = feat_dim
        self.bank = KeyQueue(bank_size, feat_dim)

    @torch.no_grad()
    def nearest_candidates(self, keys: torch.Tensor) -> torch.Tensor:
        """The top-K bank entries of each key by cosine similarity.

        Args:
            keys (Tensor): L2-normalised keys, N x D.

        Returns:
            Tensor: N x K' x D with ``K' = min(topk, filled entries)``.
        """
        bank = self.bank.filled()
        k = min(self.topk, bank.shape[0])
        if k == 0:
            return keys.new_zeros(keys.shape[0], 0, keys.shape[1])
        idx = (keys.to(bank.dtype) @ bank.T).topk(k, dim=1).indices
        return bank[idx]

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # checkpoints written before the bank became a KeyQueue
        rename_state_keys(state_dict, prefix, {
            'bank': 'bank.keys', 'bank_ptr': 'bank.ptr',
            'bank_len': 'bank.count'})
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Symmetric soft-neighbour loss of the first two views.

        Returns:
            dict: ``loss`` and ``positiveness`` (mean neighbour weight, 1 at
            the first step when the bank is still empty).
        """
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError('SNCLR needs a list of two views per image; use '
                             'a MultiView transform with num_views=2')
        view_1, view_2 = inputs[0], inputs[1]
        proj_1 = self.neck(self.backbone(view_1))[0]
        proj_2 = self.neck(self.backbone(view_2))[0]
        with torch.no_grad():
            self.momentum_encoder.update_parameters(
                nn.Sequential(self.backbone, self.neck))
            key_1 = F.normalize(self.momentum_encoder(view_1)[0], dim=1)
            key_2 = F.normalize(self.momentum_encoder(view_2)[0], dim=1)
            nbrs_1 = self.nearest_candidates(key_1)
            nbrs_2 = self.nearest_candidates(key_2)
        loss_1, w_1 = self.head.loss(proj_1, key_2, nbrs_2)
        loss_2, w_2 = self.head.loss(proj_2, key_1, nbrs_1)
        self.bank.push(key_2)
        weights = torch.cat([w_1, w_2]).detach()
        positiveness = weights.mean() if weights.numel() else \
            loss_1.new_ones(())
        return dict(loss=loss_1 + loss_2, positiveness=positiveness)
