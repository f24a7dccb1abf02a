"""BatchNorm statistics re-estimated on the target data before training."""
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch.utils.data import DataLoader, Subset

from hclmm.registry import HOOKS

__all__ = ['BNReestimationHook']


def sample_indices(size: int, num: int, seed: int) -> list:
    """``num`` indices into a dataset of ``size`` samples: seeded random
    permutations of it, one after another."""
    g = torch.Generator().manual_seed(seed)
    perms = [torch.randperm(size, generator=g) for _ in range(-(-num // size))]
    return torch.cat(perms)[:num].tolist()


def _own_loader(loader: DataLoader, num_batches: int,
                seed: int) -> DataLoader:
    """``num_batches`` batches of the run's dataset, drawn at random, with
    the run's collation, in a loader whose workers end with it. The run's
    own loader is not touched: iterating it would reset its persistent
    workers under the iterator the training loop already holds, and a
    sampler such as mmengine's ``InfiniteSampler`` is one shared generator
    that a second, closed iterator ends for good."""
    indices = sample_indices(len(loader.dataset),
                             num_batches * loader.batch_size, seed)
    return DataLoader(
        Subset(loader.dataset, indices), batch_size=loader.batch_size,
        num_workers=loader.num_workers, collate_fn=loader.collate_fn,
        worker_init_fn=loader.worker_init_fn)


@HOOKS.register_module()
class BNReestimationHook(Hook):
    """Replace the running statistics of the backbone's BatchNorms by those
    of the training data of the run, before its first step.

    A pretrained backbone brings the statistics of its pretraining images
    (other crops, sizes and augmentations). Wherever a BatchNorm normalises
    with its running statistics (a frozen backbone with ``norm_eval``,
    validation) they then do not match the target images. This hook resets
    them and averages the statistics of ``num_batches`` batches drawn at
    random from the training set with the run's seed (the forward pass
    only, no gradient, no weight change), as the precise-BN procedure does;
    training then goes on as configured.

    In an mmdet or mmseg config, name hclmm's scope on the hook (a
    ``hclmm.`` prefix does not reach hclmm's registry from theirs)::

        custom_hooks = [
            dict(type='BNReestimationHook', _scope_='hclmm', num_batches=50)]

    Args:
        num_batches (int): Training batches to average. Defaults to 50.
        module (str): Attribute of the model whose BatchNorms are
            re-estimated. Defaults to ``'backbone'``.
    """

    priority = 'LOW'

    def __init__(self, num_batches: int = 50, module: str = 'backbone'):
        if num_batches < 1:
            raise ValueError(f'num_batches must be >= 1, got {num_batches}')
        self.num_batches = num_batches
        self.module = module

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        target = getattr(model, self.module, None)
        if target is None:
            raise AttributeError(
                f'BNReestimationHook: the model has no "{self.module}"')
        norms = [m for m in target.modules()
                 if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        if not norms:
            return
        state = [(m, m.training, m.momentum) for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches
            m.train()
        seen = 0
        with torch.no_grad():
            for data in _own_loader(runner.train_dataloader,
                                    self.num_batches, runner.seed):
                data = model.data_preprocessor(data, True)
                target(data['inputs'])
                seen += 1
        for m, training, momentum in state:
            m.momentum = momentum
            m.train(training)
        print_log(
            f'BNReestimationHook: the running statistics of {len(norms)} '
            f'BatchNorm layers of the {self.module} re-estimated on '
            f'{seen} training batches', logger='current')
