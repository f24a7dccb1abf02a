"""hclmm: hyperbolic contrastive learning of scenes and objects."""
from .utils.checkpoint import enable_safe_checkpoint_loading
from .version import __version__, version_info

# mmengine checkpoints load back under torch >= 2.6 (weights-only loading)
# as soon as hclmm is imported; foreign pickled objects are still refused.
enable_safe_checkpoint_loading()

__all__ = ['__version__', 'version_info']
