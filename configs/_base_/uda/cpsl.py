# CPSL stage 1 (Li et al., CVPR 2022; SPEC-more-uda.md §2.3, the official parser_train.py
# and README stage-1 command): from the warm-up (AdvSeg) model, whose checkpoint the run
# loads (load_from) and whose tools/cpsl_prepare.py output it reads (prepare_dir).
# The target pipeline gives the full images (for the teacher); the wrapper cuts the weak
# view (random resize of the long side to 2200*U(0.5, 1.5) of the 2048 px image, a
# 896x512 crop, h-flip) and the strong view.
uda = dict(
    type='CPSL',
    prepare_dir=None,  # the run sets it: the folder tools/cpsl_prepare.py wrote
    alpha=0.999,
    tau=0.08,
    eps=0.05,
    sinkhorn_iters=3,
    num_samples=256,
    queue_len=65536,
    prior='fixed',  # the code's r; 'ema': the paper's delta_pseudo
    prior_momentum=0.99,
    class_balanced_sampling=False,  # the code's uniform sampling; True: the paper's
    rectify=True,
    lambda_sl=0.1,
    lambda_cons=5.0,
    lambda_con=1e-3,
    rce=(0.1, 1.0),
    cutmix_p=0.5,
    cutmix_area=0.5,
    weak_view=dict(crop_size=(512, 896), ratio_range=(2200 / 2048 * 0.5, 2200 / 2048 * 1.5),
                   flip_prob=0.5),
    color_jitter_strength=0.4,
    color_jitter_probability=0.2,
    blur=True,
)
