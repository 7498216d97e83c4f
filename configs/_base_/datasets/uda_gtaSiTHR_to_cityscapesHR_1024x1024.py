# uda_gtaHR_to_cityscapesHR_1024x1024 on ProCST-translated GTA (data/gta/sit_procst, made
# at GTA's full resolution): only the image folder changes.
_base_ = ['uda_gtaHR_to_cityscapesHR_1024x1024.py']
data = dict(train=dict(source=dict(img_dir='sit_procst')))
