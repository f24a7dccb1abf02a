"""The ``hclmm::`` scope of config paths.

A config of another project inherits an hclmm config through its scope::

    _base_ = ['hclmm::hcl/hcl-mocov2_resnet50_8xb16-coslr-200e_coco.py']

mmengine resolves ``SCOPE::path`` to ``<package folder>/.mim/configs/path``
(the configs that ``pip install``/``mim install`` put into ``hclmm/.mim``,
see ``setup.py``), but only for the scopes of its table ``MODULE2PACKAGE``,
which lists OpenMMLab's own libraries. Importing hclmm adds its scope there.

mmengine finds a package's folder from the location of its distribution,
which is right for a wheel but is ``site-packages`` for an editable install
(PEP 660: the sources stay in the clone and a path hook finds them). The
scope is therefore mapped to a module of the package rather than to the
distribution's name: mmengine then asks the import system, which finds the
package where Python imports it from, in every kind of install.
"""
__all__ = ['register_config_scope', 'SCOPE', 'SCOPE_MODULE']

SCOPE = 'hclmm'
#: What mmengine looks the scope up by: a module at the top of the package,
#: so that the folder it lies in is the package's.
SCOPE_MODULE = 'hclmm.version'


def register_config_scope() -> None:
    """Let mmengine's ``Config`` resolve ``hclmm::`` config paths.

    Idempotent; an entry set by someone else is left alone.
    """
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault(SCOPE, SCOPE_MODULE)
