# uda_synthia_to_cityscapes_512x512 on Synthia translated to the Cityscapes style by
# ProCST (data/synthia/sit_procst): only the image folder changes; labels and the Rare
# Class Sampling statistics stay Synthia's (same data_root).
_base_ = ['uda_synthia_to_cityscapes_512x512.py']
data = dict(train=dict(source=dict(img_dir='sit_procst')))
