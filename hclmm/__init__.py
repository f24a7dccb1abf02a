"""hclmm: hyperbolic contrastive learning of scenes and objects."""
from .utils.checkpoint import enable_safe_checkpoint_loading
from .utils.config_scope import register_config_scope
from .version import __version__, version_info

# mmengine checkpoints load back under torch >= 2.6 (weights-only loading)
# as soon as hclmm is imported; foreign pickled objects are still refused.
enable_safe_checkpoint_loading()
# configs elsewhere can inherit hclmm's: _base_ = ['hclmm::hcl/...py']
register_config_scope()

__all__ = ['__version__', 'version_info']
