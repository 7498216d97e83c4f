# RIPU's region-based selection (RA, SPEC-more-uda.md §3.2 step 2): 2.2% of the target
# pixels over 5 rounds in 3x3 regions; mmseg/apis/active_selection_hook.py.
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
