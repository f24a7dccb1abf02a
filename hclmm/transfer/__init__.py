"""Pieces that transfer runs need inside mmdet, mmseg and mmpretrain.

Nothing here is imported by ``import hclmm``: each module imports the
library it plugs into, and the configs that use it name it in
``custom_imports``.
"""
