# uda_gta_to_cityscapes_512x512 on GTA translated to the Cityscapes style by ProCST
# ("Source in Target", tools/procst/translate.py -> data/gta/sit_procst): only the image
# folder changes; labels and the Rare Class Sampling statistics stay GTA's (same data_root).
_base_ = ['uda_gta_to_cityscapes_512x512.py']
data = dict(train=dict(source=dict(img_dir='sit_procst')))
