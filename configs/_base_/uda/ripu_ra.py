# RIPU (Xie et al., CVPR 2022), region-based annotation (RA): in 5 rounds during training
# the target regions of highest region impurity x prediction uncertainty are labelled,
# 2.2% of the target pixels in all, in 3x3 windows (RADIUS_K 1; SPEC-more-uda.md §3).
# Trained with CE on the source and the labelled target pixels, source local consistency
# at label boundaries and target negative learning; no teacher, no mixing.
_base_ = ['dacs.py', '../active/ripu_ra.py']
uda = dict(
    type='RIPU',
    source_only=True,
    lambda_cr=0.1,  # CONSISTENT_LOSS
    lambda_nl=1.0,  # NEGATIVE_LOSS
    nl_threshold=0.05,  # NEGATIVE_THRESHOLD
    cr_region='boundary',  # the official code (the paper's formula: 'all')
)
