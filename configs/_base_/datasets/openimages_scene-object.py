# OpenImages boxes as scene-object pretraining data (same sampling and views
# as the COCO config).
_base_ = ['./coco_scene-object.py']

dataset_type = 'SceneObjectOpenImagesDataset'
data_root = 'data/OpenImages/'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/oidv6-train-annotations-bbox.csv',
        class_file='annotations/class-descriptions-boxable.csv',
        data_prefix=dict(img='train/'),
        min_box_size=56,
        min_boxes=2,
        pipeline={{_base_.train_pipeline}}))

# The zero-shot metrics read COCO-format files (SceneObjectCropDataset):
# convert an OpenImages val split to COCO json and set val_dataloader /
# test_dataloader like the COCO base config to evaluate; off by default.
val_dataloader = val_evaluator = val_cfg = None
test_dataloader = test_evaluator = test_cfg = None
