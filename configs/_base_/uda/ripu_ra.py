# RIPU (Xie et al., CVPR 2022), region-based annotation (RA): in 5 rounds during training
# the target regions of highest region impurity x prediction uncertainty are labelled,
# 2.2% of the target pixels in all, in 3x3 windows (RADIUS_K 1; SPEC-more-uda.md §3).
# Trained with CE on the source and the labelled target pixels, source local consistency
# at label boundaries and target negative learning; no teacher, no mixing.
_base_ = ['dacs.py']
uda = dict(
    type='RIPU',
    source_only=True,
    lambda_cr=0.1,  # CONSISTENT_LOSS
    lambda_nl=1.0,  # NEGATIVE_LOSS
    nl_threshold=0.05,  # NEGATIVE_THRESHOLD
    cr_region='boundary',  # the official code (the paper's formula: 'all')
)
active_selection = dict(
    mode='RA',
    ratio=0.022,
    radius_k=1,
    # SELECT_ITER of a STOP_ITER=40k run, rescaled when runner.max_iters differs.
    select_iters=[10000, 12000, 14000, 16000, 18000],
    schedule_iters=40000,
    # Scored on the image resized to 1280x640, labelled at the original size.
    select_scale=(1280, 640),
    label_source='oracle',  # copy the target ground truth; 'human': request + ingest
    selection='ripu',  # 'random': the random-region baseline with the same budget
    norm_classes=19,  # log 19 also for Synthia's 16 classes, as the official code
)
