# uda_synthiaHR_to_cityscapesHR_1024x1024 on ProCST-translated Synthia
# (data/synthia/sit_procst, made at Synthia's full resolution): only the image folder
# changes.
_base_ = ['uda_synthiaHR_to_cityscapesHR_1024x1024.py']
data = dict(train=dict(source=dict(img_dir='sit_procst')))
