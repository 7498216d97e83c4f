# Cityscapes at half resolution (1024x512) with 512x512 random crops; the
# name used by the DAFormer experiments for cityscapes_512x512.py.
_base_ = ['cityscapes_512x512.py']
