"""Library entry points behind the tools: a model from a config and a
checkpoint, one feature extraction, the zero-shot report, the weighted kNN
benchmark, the robustness probe and the transfer suite
(:mod:`hclmm.apis.transfer`)."""
from .inference import (backbone_state_dict, build_dataloader,
                        extract_features, extract_from_config, init_model,
                        load_backbone)
from .knn import knn_accuracy, knn_eval, knn_scores
from .projector import PROJECTOR_COLUMNS, add_projector
from .robustness import (DEFAULT_PROBE_CONFIG, budget_text, parse_budget,
                         pgd_attack, pixel_classifier, probe_config,
                         robust_accuracy, robustness_report,
                         train_linear_probe)
from .transfer import SuiteError, run_transfer
from .zero_shot import (build_zero_shot_dataset, crop_resize, embed_dataset,
                        run_zero_shot, zero_shot_from_config,
                        zero_shot_summary)

__all__ = [
    'init_model', 'backbone_state_dict', 'load_backbone', 'build_dataloader',
    'extract_features', 'extract_from_config', 'knn_scores', 'knn_accuracy',
    'knn_eval',
    'DEFAULT_PROBE_CONFIG', 'parse_budget', 'budget_text', 'pgd_attack',
    'robust_accuracy', 'pixel_classifier', 'probe_config',
    'train_linear_probe', 'robustness_report', 'crop_resize',
    'build_zero_shot_dataset', 'embed_dataset', 'run_zero_shot',
    'zero_shot_from_config', 'zero_shot_summary', 'PROJECTOR_COLUMNS',
    'add_projector', 'SuiteError', 'run_transfer'
]
