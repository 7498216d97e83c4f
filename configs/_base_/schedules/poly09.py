# Polynomial learning rate decay with power 0.9 to 0 (the label-shift / FADA solver).
lr_config = dict(policy='poly', power=0.9, min_lr=0, by_epoch=False)
