# Classifier Rectification ("Undoing the Damage of Label Shift", Liu et al., CVPR 2022,
# train_CR.py): from the aligned model, backbone frozen, the classifier trained on the
# source with CE(logits + log P_s - log P_t). The run sets load_from (the alignment
# checkpoint) and label_shift.file (tools/estimate_label_shift.py on that checkpoint).
uda = dict(
    type='LabelShiftCR',
    label_shift=dict(file='label_shift.json'),
    cr_trainable='decode_head',  # the whole head (official: the whole ASPP classifier)
)
