# UPerNet decoder with 256 instead of 512 channels on a MiT encoder.
_base_ = ['upernet_mit.py']

model = dict(decode_head=dict(channels=256))
