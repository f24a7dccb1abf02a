# The toy MoCo v2 baseline with a colour distortion strong enough that two
# views of one object rarely share their colours: colour jitter on every view
# with any hue rotation (hue 0.5) and twice the brightness, contrast and
# saturation range, and grayscale on half the object views. Everything else
# (crop, resize, flip, schedule) is the baseline's. One variable of the
# transfer diagnosis (projects/transfer_diagnosis/README.md): on the patch
# scenes every object has two random colours, an instance cue that says
# nothing of the texture class.
_base_ = ['../../../configs/hcl/mocov2_resnet18_1xb32-8e_toy-scenes.py']

jitter = dict(type='ColorJitter', brightness=0.8, contrast=0.8,
              saturation=0.8, hue=0.5, hue_backend='cv2')
views = _base_.train_pipeline[1]
crop, _, gray, flip = views.object_view_pipeline
resize, _, scene_flip = views.scene_view_pipeline
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(_base_.train_pipeline[0]),
        dict(
            views,
            object_view_pipeline=[crop, jitter, dict(gray, prob=0.5), flip],
            scene_view_pipeline=[resize, jitter, scene_flip]),
        dict(_base_.train_pipeline[2]),
    ]))
