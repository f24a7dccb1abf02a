# Pieces of the GPU view path (docs/training_fast.md), added as a second base
# to a scene-object config: the workers read the JPEG bytes
# (LoadSceneImageBytes) and sample windows and augmentation parameters
# (SceneObjectViewParams, given the config's own view pipelines); the data
# preprocessor decodes the batch and makes the views on the model's device.
gpu_view_preprocessor = dict(
    type='SceneObjectViewPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)  # for batches of the CPU path (BGR), e.g. the hooks'
gpu_view_loader = dict(type='LoadSceneImageBytes', on_error='raise')
gpu_view_pack = dict(
    type='PackInputs',
    meta_keys=('img_id', 'img_path', 'object_label', 'num_objects',
               'num_instances', 'scene_type', 'view_boxes', 'view_params',
               'view_sizes', 'img_orientation', 'img_shape'))
# encoded images differ in length: the batch keeps them as a list
gpu_view_collate = dict(type='pseudo_collate')
