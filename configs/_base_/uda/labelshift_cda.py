# Class-conditional adversarial alignment (FADA-style), the alignment stage of "Undoing
# the Damage of Label Shift" (Liu et al., CVPR 2022); official values (FADA train_adv.py,
# Undoing_UDA configs/deeplabv2_r101_adv.yaml).
uda = dict(
    type='CondAdvSeg',
    temperature=1.8,  # logits / T before the source CE and the soft labels
    soft_label_cap=0.9,
    lambda_adv=0.001,
    lr_D=1e-4,  # Adam (0.9, 0.99), poly 0.9
    lr_D_power=0.9,
    lr_D_min=0,
    disc_mid=256,
    disc_feature=-1,  # the last backbone stage
)
