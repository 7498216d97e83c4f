"""The experiments of the DAFormer, HRDA and MIC papers, by experiment ID.

    from experiments import generate_experiment_cfgs
    cfgs = generate_experiment_cfgs(40)   # HRDA on GTA->Cityscapes and Synthia->Cityscapes

Every experiment ID is a *grid*: a tuple of :class:`Params` rows, one per training run
(dataset pair, network, UDA method and its options, seed, ...). One routine,
:func:`build_config`, turns a row into a config dict (``_base_`` files plus the overrides)
and names it. The names are the contract with the papers' tables: they become the run
folders, so they follow the authors' naming exactly, e.g.
``gta2cs_dacs_a999_fdthings_rcs001_cpl_daformer_sepaspp_mitb5_poly10warm_s0``::

    {source}2{target}[_{crop}]_{uda}[_rcs{T}[-{min crop}]][_sf{sync crop}][_cpl|_cpl2]
        [_m{block}-{ratio}[-a{alpha}][-p{threshold}]-{mask mode}]
        _{architecture}[_sl]_{backbone}_{schedule}[_{opt}_{lr}_pm{pmult}]_s{seed}

with dots removed and long dataset names shortened (``cityscapes`` -> ``cs``, ...). The
``name_*`` fields keep the unshortened parts (``name_uda='dacs_a999_fdthings_rcs0.01_cpl'``).

``python run_experiments.py --list`` prints the IDs; ``--exp ID`` writes and trains them.
"""
import dataclasses
import itertools
import logging
import os.path as osp
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple, Optional, Tuple, Union

CONFIGS_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'configs')

# GPUs the authors scheduled the HRDA/MIC runs on (recorded in the configs): the 11 GB card
# for 512x512 runs, the 24 GB card for most high-resolution and memory-heavy runs.
GPU_11GB = 'NVIDIAGeForceRTX2080Ti'
GPU_24GB = 'NVIDIATITANRTX'


@dataclass(frozen=True)
class Mask:
    """MIC masked image consistency (``uda.mask_*``): block masks of ``block_size`` px
    with ``ratio`` of the blocks masked; ``alpha``/``pseudo_threshold`` ``'same'`` reuse
    the EMA and confidence threshold of the mixing loss."""
    block_size: int
    ratio: float
    mode: str = 'separatetrgaug'
    alpha: Any = 'same'
    pseudo_threshold: Any = 'same'
    loss_weight: float = 1  # uda.mask_lambda


# Short names of the MIC mask modes: sep(arate), s(ource)/t(arget) images, a(ugmented).
MASK_MODE_TAGS = {
    'separate': 'sep',
    'separateaug': 'spa',
    'separatesrc': 'sps',
    'separatesrcaug': 'spsa',
    'separatetrg': 'spt',
    'separatetrgaug': 'spta',
}


@dataclass(frozen=True)
class Params:
    """One training run of an experiment grid."""
    exp: int
    seed: int
    # Data: ``_base_/datasets/uda_{source}_to_{target}_{crop}.py`` and friends.
    source: str
    target: str
    crop: str
    # Network: architecture ``[hrda1-{hr crop}-{hr loss weight}[-{ablation}...]_]{decoder}``
    # (e.g. ``daformer_sepaspp``, ``sfa_dlv3p_nodbn``) and backbone (``mitb5``, ``r101v1c``).
    architecture: str
    backbone: str
    # ``source-only``, ``target-only`` or a ``_base_/uda/{uda}.py`` file (dacs, advseg, ...).
    uda: str
    inference: str = 'whole'  # or 'slide': sliding-window test, ``_sl`` in the name
    batched_slide: bool = True
    rcs_T: Optional[float] = None  # rare class sampling temperature (None: off)
    rcs_min_crop: float = 0.5
    # Pseudo-label cropping: True ignores the top/bottom rows in the pseudo-weight
    # (DAFormer, ``cpl``); 'v2' crops the target pseudo-label margins (HRDA, ``cpl2``).
    plcrop: Union[bool, str] = False
    sync_crop_size: Optional[Tuple[int, int]] = None  # smaller crop for source and target
    mask: Optional[Mask] = None
    opt: str = 'adamw'
    lr: float = 6e-05
    pmult: bool = True  # 10x learning rate for the decode head
    schedule: str = 'poly10warm'
    iters: int = 40000
    eval_interval: Optional[int] = None  # default: iters // 10
    log_level: Optional[int] = None
    batch_size: int = 2
    n_gpus: int = 1
    workers_per_gpu: int = 4
    gpu_model: Optional[str] = None
    # Dataset file of target-only (oracle) runs; DAFormer trains them on half-resolution
    # Cityscapes (``cityscapes_half_512x512.py``).
    target_only_dataset: str = '{target}_{crop}'
    # Label shift (Liu et al. 2022): n_s of the label-shift estimate written after training
    # (None: no estimate) and the network that predicts the target for it ('student', or
    # 'teacher': the EMA teacher of DACS-family runs); the overrides of this run's own row
    # that give the run it starts from (``load_from``, and its label_shift.json for
    # Classifier Rectification).
    estimate_label_shift: Optional[int] = None
    estimate_label_shift_weights: str = 'student'
    start_from: Optional[Tuple[Tuple[str, Any], ...]] = None
    # CPSL (Li et al. 2022): the decode head's lr multiplier with ``pmult`` (official 5x),
    # extra ``uda`` settings (the warm-up's adversarial weight), and whether
    # tools/cpsl_prepare.py runs on the trained model (a CPSL run starting from it reads
    # ``<its work dir>/cpsl_prepare``).
    head_lr_mult: float = 10.0
    uda_overrides: Optional[Tuple[Tuple[str, Any], ...]] = None
    cpsl_prepare: bool = False
    # ProCST: the PROCST_TRANSLATORS key whose translated source images this run trains on
    # (run_experiments.py trains that translator and translates the source first).
    translate_source: Optional[str] = None


class Experiment(NamedTuple):
    description: str
    grid: Tuple[Any, ...]  # Params rows (paper IDs) or SynthShiftRun rows (ID 0)
    # SynthShiftRun rows trained only when asked for (run_experiments.py --methods).
    optional: Tuple[Any, ...] = ()


# ---------------------------------------------------------------------------------------
# The config-building routine
# ---------------------------------------------------------------------------------------

DEFAULT_OPTIMIZER = ('adamw', 6e-05, True)
NAME_ABBREVIATIONS = (('.', ''), ('True', 'T'), ('False', 'F'), ('None', 'N'),
                      ('cityscapes', 'cs'), ('synthia', 'syn'), ('darkzurich', 'dzur'))


def split_architecture(architecture):
    """``'hrda1-512-0.1-blurhr_daformer_sepaspp'`` -> ``('hrda1-512-0.1-blurhr',
    'daformer_sepaspp')``; the HRDA part is None for single-scale networks."""
    head, _, rest = architecture.partition('_')
    if head.startswith('hrda'):
        return head, rest
    return None, architecture


def model_base_file(decoder, backbone):
    """The ``_base_/models`` file of a decoder (without ``sfa_``/``_nodbn``) + backbone."""
    decoder = decoder.replace('sfa_', '').replace('_nodbn', '')
    if decoder == 'segformer':
        # MiT-B3/B4 reuse the B5 head config (only the backbone type changes).
        return {'r101v1c': 'segformer_r101.py'}.get(backbone, 'segformer_b5.py')
    if decoder.startswith('daformer_') and backbone == 'mitb5':
        return f'{decoder}_mitb5.py'
    if decoder.startswith('upernet') and backbone.startswith('mit'):
        return f'{decoder}_mit.py'
    if backbone.startswith('mit') and not backbone.endswith('-del'):
        raise ValueError(f'no _base_/models file for decoder {decoder!r} with backbone '
                         f'{backbone!r}; a MiT backbone in a ResNet model file needs the '
                         f"'-del' suffix (replace the whole backbone dict)")
    resnet_models = {
        'dlv2': 'deeplabv2_r50-d8.py',
        'dlv2red': 'deeplabv2red_r50-d8.py',
        'dlv2proj': 'deeplabv2proj_r50-d8.py',
        'dlv3p': 'deeplabv3plus_r50-d8.py',
        'da': 'danet_r50-d8.py',
        'isa': 'isanet_r50-d8.py',
    }
    if decoder not in resnet_models:
        raise ValueError(f'unknown decoder {decoder!r} (backbone {backbone!r}); expected '
                         f'segformer, daformer_*, upernet* or one of {sorted(resnet_models)}')
    return resnet_models[decoder]


def pretrained_file(backbone):
    if backbone.startswith('mitb'):
        return f'pretrained/mit_b{backbone[4]}.pth'
    checkpoints = {
        'r50v1c': 'open-mmlab://resnet50_v1c',
        'r101v1c': 'open-mmlab://resnet101_v1c',
        'x50-32': 'open-mmlab://resnext50_32x4d',
        'x101-32': 'open-mmlab://resnext101_32x4d',
        's50': 'open-mmlab://resnest50',
        's101': 'open-mmlab://resnest101',
        's200': 'open-mmlab://resnest200',
    }
    if backbone not in checkpoints:
        raise ValueError(f'unknown backbone {backbone!r}; expected mitb1..mitb5[-del] or '
                         f'one of {sorted(checkpoints)}')
    return checkpoints[backbone]


def backbone_cfg(backbone):
    """Overrides of ``model.backbone`` (the model files hold a ResNet-50 or MiT-B5)."""
    if backbone.startswith('mitb'):
        cfg = {'type': f'mit_b{backbone[4]}'}
        if backbone.endswith('-del'):  # a MiT in a ResNet model file: drop the ResNet keys
            cfg = {'_delete_': True, **cfg}
        return cfg
    match = re.fullmatch(r'([rxs])(\d+)(v1c|-32)?', backbone)
    if match is None:
        raise ValueError(f'unknown backbone {backbone!r}; expected mitb<N>[-del], '
                         'r<depth>v1c, x<depth>-32 or s<depth>')
    family, depth = match.group(1), int(match.group(2))
    if family == 'r':
        return {'depth': depth}
    if family == 'x':
        return {'type': 'ResNeXt', 'depth': depth, 'groups': 32, 'base_width': 4}
    return {'type': 'ResNeSt', 'depth': depth, 'stem_channels': 64 if depth == 50 else 128,
            'radix': 2, 'reduction_factor': 4, 'avg_down_stride': True}


@lru_cache(maxsize=None)
def decode_head_type(model_file):
    """The ``model.decode_head.type`` of a ``_base_/models`` file (HRDA wraps that head)."""
    from mmcv import Config
    path = osp.join(CONFIGS_DIR, '_base_', 'models', model_file)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: HRDA reads the single-scale decode head '
                                'type from the model base config')
    return Config.fromfile(path)['model']['decode_head']['type']


def crop_size(crop):
    """``'1024x512'`` -> ``(1024, 512)``."""
    height, width = crop.split('x')
    return int(height), int(width)


def setup_hrda(model, hrda, model_file, outer_crop, uda):
    """Multi-resolution training (HRDA): ``hrda1-{hr crop}-{hr loss weight}[-{option}]``."""
    _, hr_crop, hr_loss_weight, *options = hrda.split('-')
    hr_crop_size = (int(hr_crop), int(hr_crop))
    hr_loss_weight = float(hr_loss_weight)
    decode_head = model['decode_head']
    model['type'] = 'HRDAEncoderDecoder'
    model['scales'] = [1, 0.5]
    decode_head['single_scale_head'] = decode_head_type(model_file)
    decode_head['type'] = 'HRDAHead'
    model['hr_crop_size'] = hr_crop_size
    model['feature_scale'] = 0.5
    model['crop_coord_divisible'] = 8
    model['hr_slide_inference'] = True
    decode_head['attention_classwise'] = True
    decode_head['hr_loss_weight'] = hr_loss_weight
    if outer_crop == hr_crop_size:
        # The detail crop covers the whole context crop: no region of the LR prediction
        # is left without fusion, so it gets its own loss, and the feature distance is
        # computed on both scales.
        decode_head['lr_loss_weight'] = hr_loss_weight
        model['feature_scale'] = 'all' if '_fd' in uda else 0.5
    for option in options:  # HRDA ablations
        if option == 'fixedatt':  # average both scales instead of a learned attention
            decode_head['fixed_attention'] = 0.5
        elif option == 'nooverlap':  # non-overlapping HR sliding windows
            model['hr_slide_overlapping'] = False
        elif option == 'blurhr':  # detail crop from the upsampled LR image
            model['blur_hr_crop'] = True
        elif option == 'samescale':  # both crops at the same resolution
            model['scales'] = [1, 1]
            model['feature_scale'] = 1
        elif option.startswith('sc'):  # other context scale, e.g. sc0.25
            model['scales'] = [1, float(option[2:])]
        else:
            raise ValueError(f'unknown HRDA option {option!r} in {hrda!r}; expected '
                             'fixedatt, nooverlap, blurhr, samescale or sc<scale>')


def dataset_bases(p):
    if p.uda == 'target-only':
        return [f'_base_/datasets/{p.target_only_dataset.format(target=p.target, crop=p.crop)}.py']
    if p.uda == 'source-only':
        return [f'_base_/datasets/{p.source}_to_{p.target}_{p.crop}.py']
    return [f'_base_/datasets/uda_{p.source}_to_{p.target}_{p.crop}.py',
            f'_base_/uda/{p.uda}.py']


def mask_cfg(mask):
    return {
        'mask_mode': mask.mode,
        'mask_alpha': mask.alpha,
        'mask_pseudo_threshold': mask.pseudo_threshold,
        'mask_lambda': mask.loss_weight,
        'mask_generator': {'_delete_': True, 'type': 'block', 'mask_ratio': mask.ratio,
                           'mask_block_size': mask.block_size},
    }


def uda_name(p):
    name = p.uda
    if p.rcs_T is not None:
        name += f'_rcs{p.rcs_T}'
        if p.rcs_min_crop != 0.5:
            name += f'-{p.rcs_min_crop}'
    if p.sync_crop_size is not None:
        name += '_sf{}x{}'.format(*p.sync_crop_size)
    if p.plcrop:
        name += '_cpl2' if p.plcrop == 'v2' else '_cpl'
    if p.mask is not None:
        m = p.mask
        name += f'_m{m.block_size}-{m.ratio}'
        if m.alpha != 'same':
            name += f'-a{m.alpha}'
        if m.pseudo_threshold != 'same':
            name += f'-p{m.pseudo_threshold}'
        name += f'-{MASK_MODE_TAGS[m.mode]}'
    return name


def build_config(p):
    """The config dict of one run: ``_base_`` files, overrides and names."""
    hrda, decoder = split_architecture(p.architecture)
    model_file = model_base_file(decoder, p.backbone)
    cfg = {
        '_base_': ['_base_/default_runtime.py', f'_base_/models/{model_file}',
                   *dataset_bases(p),
                   f'_base_/schedules/{p.opt}.py', f'_base_/schedules/{p.schedule}.py'],
        'n_gpus': p.n_gpus,
    }
    if p.gpu_model is not None:
        cfg['gpu_model'] = p.gpu_model
    if p.log_level is not None:
        cfg['log_level'] = p.log_level
    cfg['seed'] = p.seed

    # Network
    model = cfg['model'] = {'pretrained': pretrained_file(p.backbone),
                            'backbone': backbone_cfg(p.backbone), 'decode_head': {}}
    if 'sfa_' in decoder:  # SegFormer adapter between a MiT and a ResNet-style head
        model['neck'] = {'type': 'SegFormerAdapter'}
        model['decode_head']['in_channels'] = 512
    if '_nodbn' in decoder:  # no batch norm in the decode head
        model['decode_head']['norm_cfg'] = None
    if 'dlv3p' in decoder and p.backbone.startswith('mit'):
        model['decode_head']['c1_in_channels'] = 64
    outer_crop = p.sync_crop_size or crop_size(p.crop)
    if hrda is not None:
        setup_hrda(model, hrda, model_file, outer_crop, p.uda)
    if p.inference == 'slide':
        height, width = outer_crop
        model['test_cfg'] = {
            'mode': 'slide',
            'batched_slide': p.batched_slide,
            # A tuple when taken from sync_crop_size, as the authors' generator wrote it.
            'crop_size': p.sync_crop_size or [height, width],
            'stride': [height // 2, width // 2],
        }
    elif p.inference != 'whole':
        raise ValueError(f"unknown inference {p.inference!r}; expected 'whole' or 'slide'")

    # Data and UDA
    train = {}
    if p.rcs_T is not None:
        train['rare_class_sampling'] = {'min_pixels': 3000, 'class_temp': p.rcs_T,
                                        'min_crop_ratio': p.rcs_min_crop}
    if p.sync_crop_size is not None:
        train['sync_crop_size'] = p.sync_crop_size
    uda = {}
    if p.plcrop == 'v2':
        train['target'] = {'crop_pseudo_margins': [30, 240, 30, 30]}
    elif p.plcrop:
        uda.update(pseudo_weight_ignore_top=15, pseudo_weight_ignore_bottom=120)
    if p.mask is not None:
        uda.update(mask_cfg(p.mask))
    cfg['data'] = {'samples_per_gpu': p.batch_size, 'workers_per_gpu': p.workers_per_gpu,
                   'train': train}
    if p.start_from is not None:
        start = build_config(dataclasses.replace(p, start_from=None, **dict(p.start_from)))
        start_dir = osp.join('work_dirs', str(p.exp), start['name'])
        cfg['load_from'] = osp.join(start_dir, 'latest.pth')
        if p.uda == 'labelshift_cr':
            uda['label_shift'] = {'file': osp.join(start_dir, 'label_shift.json')}
        if p.uda == 'cpsl':
            uda['prepare_dir'] = osp.join(start_dir, CPSL_PREPARE_DIR)
    if p.estimate_label_shift is not None:
        cfg['estimate_label_shift'] = {'min_pixels': p.estimate_label_shift,
                                       'weights': p.estimate_label_shift_weights}
    if p.cpsl_prepare:
        cfg['cpsl_prepare'] = {}
    if p.uda_overrides is not None:
        uda.update(dict(p.uda_overrides))
    if p.translate_source is not None:
        cfg['translate_source'] = procst_translation(p.exp, p.translate_source)
    if uda:
        cfg['uda'] = uda

    # Optimization: UDA wrappers run their own optimizer step.
    if p.uda not in ('source-only', 'target-only'):
        cfg['optimizer_config'] = None
    custom_keys = {}
    if p.pmult:
        custom_keys['head'] = {'lr_mult': p.head_lr_mult}
    if p.backbone.startswith('mit'):
        custom_keys['pos_block'] = {'decay_mult': 0.0}
        custom_keys['norm'] = {'decay_mult': 0.0}
    cfg['optimizer'] = {'lr': p.lr, 'paramwise_cfg': {'custom_keys': custom_keys}}
    cfg['runner'] = {'type': 'IterBasedRunner', 'max_iters': p.iters}
    cfg['checkpoint_config'] = {'by_epoch': False, 'interval': p.iters, 'max_keep_ckpts': 1}
    cfg['evaluation'] = {'interval': p.eval_interval or p.iters // 10, 'metric': 'mIoU'}

    # Names
    crop_tag = '' if p.crop == '512x512' else f'_{p.crop}'
    decoder_name = p.architecture + ('_sl' if p.inference == 'slide' else '')
    cfg['exp'] = p.exp
    cfg['name_dataset'] = f'{p.source}2{p.target}{crop_tag}'
    cfg['name_architecture'] = f'{decoder_name}_{p.backbone}'
    cfg['name_encoder'] = p.backbone
    cfg['name_decoder'] = decoder_name
    cfg['name_uda'] = uda_name(p)
    cfg['name_opt'] = (f'{p.opt}_{p.lr}_pm{p.pmult}_{p.schedule}'
                       f'_{p.n_gpus}x{p.batch_size}_{p.iters // 1000}k')
    name = (f"{cfg['name_dataset']}_{cfg['name_uda']}_{cfg['name_architecture']}"
            f'_{p.schedule}')
    if (p.opt, p.lr, p.pmult) != DEFAULT_OPTIMIZER:
        name += f'_{p.opt}_{p.lr}_pm{p.pmult}'
    name += f'_s{p.seed}'
    for long, short in NAME_ABBREVIATIONS:
        name = name.replace(long, short)
    cfg['name'] = name
    return cfg


# ---------------------------------------------------------------------------------------
# Grid building blocks
# ---------------------------------------------------------------------------------------

def grid(*axes):
    """Rows of the cartesian product of ``axes`` (lists of override dicts, or single dicts
    for settings shared by all rows); the last axis varies fastest."""
    axes = [axis if isinstance(axis, list) else [axis] for axis in axes]
    rows = []
    for combo in itertools.product(*axes):
        row = {}
        for overrides in combo:
            row.update(overrides)
        rows.append(row)
    return rows


def net(architecture, backbone, **kwargs):
    return dict(architecture=architecture, backbone=backbone, **kwargs)


def seeds(*values):
    return [dict(seed=s) for s in values]


SEEDS = seeds(0, 1, 2)
SEED0 = seeds(0)

# Settings of the three code bases (the repository an ID comes from).
REPOSITORIES = {
    'daformer': dict(workers_per_gpu=4, target_only_dataset='{target}_half_{crop}'),
    'hrda': dict(workers_per_gpu=1),
    'mic': dict(workers_per_gpu=1),
    'labelshift': dict(workers_per_gpu=4),
    'ripu': dict(workers_per_gpu=4),
    'cpsl': dict(workers_per_gpu=4),
    'procst': dict(workers_per_gpu=4),
}

# Datasets: source, target, crop and the RCS minimum crop ratio (0.5 of a 512x512 crop,
# scaled with the crop area).
GTA2CS = dict(source='gta', target='cityscapes', crop='512x512')
SYN2CS = dict(source='synthia', target='cityscapes', crop='512x512')
CS2ACDC = dict(source='cityscapes', target='acdc', crop='512x512')
CS2DZUR = dict(source='cityscapes', target='darkzurich', crop='512x512')
CS2CS = dict(source='cityscapes', target='cityscapes', crop='512x512')
GTACAUG2CS = dict(source='gtaCAug', target='cityscapes', crop='512x512')
GTAHR2CSHR = dict(source='gtaHR', target='cityscapesHR', crop='1024x1024', rcs_min_crop=2.0)
SYNHR2CSHR = dict(source='synthiaHR', target='cityscapesHR', crop='1024x1024',
                  rcs_min_crop=2.0)
CSHR2ACDCHR = dict(source='cityscapesHR', target='acdcHR', crop='1024x1024',
                   rcs_min_crop=2.0)
CSHR2DZURHR = dict(source='cityscapesHR', target='darkzurichHR', crop='1024x1024',
                   rcs_min_crop=2.0)
GTACAUGHR2CSHR = dict(source='gtaCAugHR', target='cityscapesHR', crop='1024x1024',
                      rcs_min_crop=2.0)

# UDA methods and training strategies
SOURCE_ONLY = dict(uda='source-only')
TARGET_ONLY = dict(uda='target-only')
DACS = dict(uda='dacs')
# DAFormer: RCS, thing-class feature distance, EMA alpha 0.999, pseudo-label cropping.
DAFORMER_UDA = dict(uda='dacs_a999_fdthings', rcs_T=0.01, plcrop=True)
# HRDA: the same with the pseudo-label margins cropped in the dataset; without the
# cropping for ACDC and Dark Zurich (no ego-vehicle hood in the target images).
HRDA_UDA_NO_CPL = dict(uda='dacs_a999_fdthings', rcs_T=0.01)
HRDA_UDA = dict(HRDA_UDA_NO_CPL, plcrop='v2')
SGD = dict(opt='sgd', lr=0.0025, pmult=False)
ADVSEG = dict(uda='advseg', **SGD)
MINENT = dict(uda='minent', **SGD)
# DAFormer ablation: the strategies added one by one.
DAFORMER_ABLATIONS = [
    dict(uda='dacs', rcs_T=float('inf')),
    dict(uda='dacs', rcs_T=0.01),
    dict(uda='dacs_fd'),
    dict(uda='dacs_fdthings'),
    dict(uda='dacs_fdthings', rcs_T=0.01),
    DAFORMER_UDA,
]

# Networks
DLV2 = net('dlv2red', 'r101v1c')
SEGFORMER = net('segformer', 'mitb5')
DAFORMER_NET = net('daformer_sepaspp', 'mitb5')
DAFORMER_DECODERS = ['daformer_conv1', 'upernet', 'upernet_ch256', 'daformer_isa',
                     'daformer_sepaspp_bottleneck', 'daformer_aspp', 'daformer_sepaspp']
HRDA_NET = net('hrda1-512-0.1_daformer_sepaspp', 'mitb5', inference='slide')
HRDA_DLV2 = net('hrda1-512-0.1_dlv2red', 'r101v1c')


def hrda_net(hrda):
    """HRDA with the DAFormer decoder, e.g. ``hrda_net('hrda1-384-0.1')``."""
    return dict(HRDA_NET, architecture=f'{hrda}_daformer_sepaspp')


# Label shift (Liu et al., CVPR 2022; SPEC-more-uda.md §1.3): DeepLabV2-R101 with the full
# ASPP (6, 12, 18, 24) on full images; SGD 2.5e-4 (head x10), poly 0.9; 4 source + 4 target
# images per iteration; 40k iterations (the official poly runs over 62.5k and stops at 40k:
# here it decays over the 40k). n_s = 0 (any pixel; the official value is not published).
LABEL_SHIFT_DLV2 = dict(net('dlv2', 'r101v1c'), opt='sgd', lr=2.5e-4, pmult=True,
                        schedule='poly09', batch_size=4)
LABEL_SHIFT_CDA = dict(uda='labelshift_cda', estimate_label_shift=0)
# DAFormer / HRDA+MIC (not from the paper): P_t from the EMA teacher, the network that
# labels the target during their training; on SynthShift it counts fewer false presences
# than the student (L1 to the true prior 0.288 vs 0.385, seed 0).
LABEL_SHIFT_FROM_TEACHER = dict(estimate_label_shift=0, estimate_label_shift_weights='teacher')
GTA2CS_FULL = dict(source='gta', target='cityscapes', crop='1280x720')
SYN2CS_FULL = dict(source='synthia', target='cityscapes', crop='1280x760')


# RIPU (Xie et al., CVPR 2022): the official full-image input (source 1280x720 / 1280x760,
# target 1280x640, no crop, no flip), DeepLabV2-R101 with full ASPP, SGD 2.5e-4 (head
# x10), poly 0.9, batch 2, 40k iterations (STOP_ITER), selection rounds at 10k..18k.
GTA2CS_RIPU = dict(source='gta', target='cityscapes', crop='1280x640')
SYN2CS_RIPU = dict(source='synthia', target='cityscapes', crop='1280x640')
RIPU_DLV2 = dict(net('dlv2', 'r101v1c'), opt='sgd', lr=2.5e-4, pmult=True,
                 schedule='poly09', batch_size=2)
RIPU_PAPER = [dict(uda='ripu_ra'), dict(uda='ripu_pa')]
# DAFormer / HRDA+MIC plus CE on the actively labelled target pixels (not from the paper).
RIPU_DAFORMER = [dict(uda='ripu_ra_daformer'), dict(uda='ripu_pa_daformer')]


def label_shift_cr(start):
    """Classifier Rectification from the run given by the overrides ``start``."""
    return dict(uda='labelshift_cr', start_from=tuple(start.items()))


# CPSL (Li et al., CVPR 2022; SPEC-more-uda.md §2.3): ProDA's DeepLabV2-R101 (modified
# ASPP, 256-d features), SGD 1e-4 with the head and the prototypes at 5x (the prototype
# head matches the 'head' key), poly 0.9 over 90k iterations, 4 images per iteration,
# 896x512 source crops and full 2048x1024 target images; stage 1 from an AdvSeg warm-up
# (LS-GAN, adversarial weight 0.01, Adam 1e-4 for D; its lr 2.5e-4 with the head at 10x
# and 20k iterations are assumptions: the CPSL repository ships the warm-up model).
CPSL_PREPARE_DIR = 'cpsl_prepare'
CPSL_DLV2 = dict(net('dlv2proj', 'r101v1c'), opt='sgd', pmult=True, schedule='poly09',
                 batch_size=4)
CPSL_WARMUP = dict(uda='advseg', lr=2.5e-4, head_lr_mult=10.0, iters=20000,
                   uda_overrides=(('lambda_adv_target', {'main': 0.01}),), cpsl_prepare=True)
GTA2CS_CPSL = dict(source='gta', target='cityscapes', crop='896x512')
SYN2CS_CPSL = dict(source='synthia', target='cityscapes', crop='896x512')


def cpsl_from(warmup, **kwargs):
    """CPSL stage 1 from the run given by the overrides ``warmup`` (its weights and its
    prepare folder)."""
    return dict(uda='cpsl', uda_overrides=None, cpsl_prepare=False,
                start_from=tuple(warmup.items()), **kwargs)


CPSL_STAGE1 = cpsl_from(CPSL_WARMUP, lr=1e-4, head_lr_mult=5.0, iters=90000)
# CPSL on DAFormer (not from the paper): the DAFormer network and optimizer (AdamW 6e-5,
# head 10x, poly 1.0 with warm-up, 40k iterations), prototypes on the fused 256-d feature.
DAFORMER_WARMUP = dict(CPSL_WARMUP, lr=6e-5, opt='adamw', iters=40000)
# ProCST (Ettedgui et al.; SPEC-more-uda.md §4): UDA on the source translated to the
# target style ("Source in Target"). Before such a run, run_experiments.py trains the
# translator once per experiment (tools/procst/train.py, official settings) and translates
# the source at its full resolution (tools/procst/translate.py, skips finished images).
PROCST_TRANSLATORS = {
    'gta': dict(config='configs/procst/gta2cs_procst.py', source_dir='data/gta/images',
                out_dir='data/gta/sit_procst'),
    'synthia': dict(config='configs/procst/syn2cs_procst.py', source_dir='data/synthia/RGB',
                    out_dir='data/synthia/sit_procst'),
}


def procst_translation(exp, source):
    """The ``translate_source`` entry of a run on translated ``source`` images."""
    spec = PROCST_TRANSLATORS[source]
    name = osp.splitext(osp.basename(spec['config']))[0]
    return dict(spec, work_dir=osp.join('work_dirs', str(exp), name))


# The dataset bases of the translated sets (uda_gtaSiT_to_cityscapes_512x512.py, ...):
# the source's image folder replaced, its labels and RCS statistics kept.
GTASIT2CS = dict(GTA2CS, source='gtaSiT', translate_source='gta')
GTASITHR2CSHR = dict(GTAHR2CSHR, source='gtaSiTHR', translate_source='gta')
SYNSIT2CS = dict(SYN2CS, source='synthiaSiT', translate_source='synthia')
SYNSITHR2CSHR = dict(SYNHR2CSHR, source='synthiaSiTHR', translate_source='synthia')


def procst_uda_rows(lr_data, hr_data):
    """DAFormer, HRDA and HRDA+MIC on a translated source (ProCST's §4.5 table)."""
    return [dict(**lr_data, **DAFORMER_NET, **DAFORMER_UDA, gpu_model=GPU_11GB),
            dict(**hr_data, **HRDA_NET, **HRDA_UDA, gpu_model=GPU_24GB),
            dict(**hr_data, **HRDA_NET, **HRDA_UDA, **mic(64), gpu_model=GPU_24GB)]


# The authors' start-up tests: 2 iterations, errors only in the log.
DEBUG = dict(iters=2, eval_interval=100, log_level=logging.ERROR)


def mic(block_size, ratio=0.7, mode='separatetrgaug', **kwargs):
    return dict(mask=Mask(block_size, ratio, mode, **kwargs))


# ---------------------------------------------------------------------------------------
# The experiments
# ---------------------------------------------------------------------------------------

def _experiments():
    specs = {
        # --- DAFormer (CVPR 2022) ---
        1: ('daformer', 'DAFormer: source-only/DACS/target-only of DeepLabV2, DANet, ISANet, '
            'DeepLabV3+ (R101) and SegFormer (MiT-B5), GTA->CS',
            grid(GTA2CS,
                 [DLV2, net('da_nodbn', 'r101v1c'), net('isa_nodbn', 'r101v1c'),
                  net('dlv3p_nodbn', 'r101v1c'), SEGFORMER],
                 [SOURCE_ONLY, DACS, TARGET_ONLY], SEEDS)),
        2: ('daformer', 'DAFormer: decoder/encoder swaps (DeepLabV3+ on MiT-B5, '
            'SegFormer head on R101), DACS and target-only',
            grid(GTA2CS, [net('sfa_dlv3p_nodbn', 'mitb5-del'), net('segformer', 'r101v1c')],
                 [DACS, TARGET_ONLY], SEEDS)),
        3: ('daformer', 'DAFormer: encoder size (R50, ResNeSt, MiT-B3/B4), '
            'source-only/DACS/target-only',
            grid(GTA2CS,
                 [net('dlv2red', 'r50v1c'), net('dlv2red', 's50'), net('dlv2red', 's101'),
                  net('dlv2red', 's200'), net('segformer', 'mitb3'),
                  net('segformer', 'mitb4')],
                 [SOURCE_ONLY, DACS, TARGET_ONLY], SEED0)),
        4: ('daformer', 'DAFormer: training without learning-rate warm-up (poly10)',
            grid(GTA2CS, dict(schedule='poly10'), [DLV2, SEGFORMER],
                 [DACS, TARGET_ONLY], SEED0)),
        5: ('daformer', 'DAFormer: RCS, feature distance and pseudo-label '
            'cropping added one by one (SegFormer; full set also for DeepLabV2)',
            grid(GTA2CS,
                 grid(SEGFORMER, DAFORMER_ABLATIONS) + grid(DLV2, DAFORMER_UDA), SEEDS)),
        6: ('daformer', 'DAFormer: decoder variants on MiT-B5, UDA and target-only',
            grid(GTA2CS, [net(d, 'mitb5') for d in DAFORMER_DECODERS],
                 [DAFORMER_UDA, TARGET_ONLY], SEEDS)),
        7: ('daformer', 'DAFormer: DAFormer on Synthia->CS',
            grid(SYN2CS, DAFORMER_NET, DAFORMER_UDA, SEEDS)),
        8: ('daformer', 'DAFormer: DAFormer on CS->ACDC and CS->Dark Zurich',
            grid([CS2ACDC, CS2DZUR], DAFORMER_NET, DAFORMER_UDA, SEEDS)),
        100: ('daformer', 'DAFormer start-up test: every network as target-only, 2 iterations',
              grid(GTA2CS, DEBUG,
                   [DLV2, net('dlv3p_nodbn', 'r101v1c'), net('da_nodbn', 'r101v1c'),
                    SEGFORMER, net('isa_nodbn', 'r101v1c'), net('dlv2red', 'r50v1c'),
                    net('dlv2red', 's50'), net('dlv2red', 's101'), net('dlv2red', 's200'),
                    net('dlv2red', 'x50-32'), net('dlv2red', 'x101-32'),
                    net('segformer', 'mitb4'), net('segformer', 'mitb3'),
                    net('sfa_dlv3p_nodbn', 'mitb5-del'), net('segformer', 'r101v1c')]
                   + [net(d, 'mitb5') for d in (
                       'daformer_conv1', 'daformer_isa', 'daformer_sepaspp_bottleneck',
                       'daformer_aspp', 'daformer_sepaspp', 'upernet', 'upernet_ch256')],
                   TARGET_ONLY, SEED0)),
        101: ('daformer', 'DAFormer start-up test: every UDA variant (SegFormer), 2 iterations',
              grid(GTA2CS, DEBUG, SEGFORMER,
                   [SOURCE_ONLY, TARGET_ONLY, DACS] + DAFORMER_ABLATIONS, SEED0)),
        # --- HRDA (ECCV 2022) ---
        40: ('hrda', 'HRDA: HRDA (DAFormer) on GTA->CS and Synthia->CS',
             grid([GTAHR2CSHR, SYNHR2CSHR], HRDA_NET, HRDA_UDA, dict(gpu_model=GPU_24GB),
                  SEEDS)),
        41: ('hrda', 'HRDA: HRDA with DeepLabV2 for AdvSeg, MinEnt, DACS and '
             'DAFormer-UDA, low vs. high resolution',
             grid([dict(**method, **data, **network)
                   for method, lr_data, hr_data in (
                       (ADVSEG, GTACAUG2CS, GTACAUGHR2CSHR),
                       (MINENT, GTACAUG2CS, GTACAUGHR2CSHR),
                       (DACS, GTA2CS, GTAHR2CSHR),
                       (HRDA_UDA, GTA2CS, GTAHR2CSHR))
                   for data, network in ((lr_data, dict(**DLV2, gpu_model=GPU_11GB)),
                                         (hr_data, dict(**HRDA_DLV2, gpu_model=GPU_24GB)))],
                  SEEDS)),
        42: ('hrda', 'HRDA: single-resolution DAFormer with smaller crops, low and '
             'high resolution',
             grid(DAFORMER_NET, dict(inference='slide'), HRDA_UDA,
                  [dict(**GTA2CS, sync_crop_size=(s, s), gpu_model=GPU_11GB)
                   for s in (128, 256, 384)]
                  + [dict(**GTA2CS, gpu_model=GPU_11GB),
                     dict(**GTAHR2CSHR, sync_crop_size=(256, 256), batched_slide=False,
                          gpu_model=GPU_11GB),
                     dict(**GTAHR2CSHR, sync_crop_size=(512, 512), gpu_model=GPU_11GB),
                     dict(**GTAHR2CSHR, sync_crop_size=(768, 768), gpu_model=GPU_24GB)],
                  SEEDS)),
        43: ('hrda', 'HRDA: target-only (oracle) DAFormer for each crop size and '
             'resolution',
             grid(DAFORMER_NET, dict(inference='slide', source=''), TARGET_ONLY,
                  [dict(target='cityscapes', crop=f'{s}x{s}', gpu_model=GPU_11GB)
                   for s in (128, 256, 384, 512)]
                  + [dict(target='cityscapesHR', crop=f'{s}x{s}',
                          gpu_model=GPU_11GB if s < 768 else GPU_24GB)
                     for s in (256, 512, 768)],
                  SEEDS)),
        44: ('hrda', 'HRDA: context/detail crop sizes, scales, HR loss weight, '
             'fusion ablations',
             grid(HRDA_UDA, dict(gpu_model=GPU_24GB), [
                 dict(**GTAHR2CSHR, sync_crop_size=(512, 512), **HRDA_NET),
                 dict(**GTAHR2CSHR, sync_crop_size=(768, 768), **HRDA_NET),
                 dict(**GTAHR2CSHR, **hrda_net('hrda1-256-0.1')),
                 dict(**GTAHR2CSHR, **hrda_net('hrda1-384-0.1')),
                 dict(**GTAHR2CSHR, sync_crop_size=(768, 768), **hrda_net('hrda1-384-0.1')),
                 dict(**GTA2CS, **hrda_net('hrda1-256-0.1-samescale')),
                 dict(**GTAHR2CSHR, **hrda_net('hrda1-512-0.1-blurhr')),
                 dict(**GTAHR2CSHR, **hrda_net('hrda1-512-0-fixedatt-nooverlap')),
                 dict(**GTAHR2CSHR, **hrda_net('hrda1-512-0-nooverlap')),
                 *[dict(**GTAHR2CSHR, **hrda_net(f'hrda1-512-{w}'))
                   for w in ('0', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7')],
                 *[dict(**GTAHR2CSHR, sync_crop_size=(512, 512),
                        **hrda_net(f'hrda1-512-0.1-sc{scale}'))
                   for scale in ('0.25', '0.75')],
             ], SEEDS)),
        49: ('hrda', 'HRDA: HRDA on CS->ACDC and CS->Dark Zurich',
             grid([CSHR2ACDCHR, CSHR2DZURHR], HRDA_NET, HRDA_UDA_NO_CPL,
                  dict(gpu_model=GPU_24GB), SEEDS)),
        # --- MIC (CVPR 2023) ---
        80: ('mic', 'MIC: MIC (HRDA) on GTA->CS, Synthia->CS, CS->ACDC and '
             'CS->Dark Zurich',
             grid(HRDA_NET, dict(gpu_model=GPU_24GB),
                  [dict(**GTAHR2CSHR, **HRDA_UDA, **mic(64)),
                   dict(**SYNHR2CSHR, **HRDA_UDA, **mic(64)),
                   dict(**CSHR2ACDCHR, **HRDA_UDA_NO_CPL, **mic(64, mode='separate')),
                   dict(**CSHR2DZURHR, **HRDA_UDA_NO_CPL, **mic(64, mode='separate'))],
                  SEEDS)),
        81: ('mic', 'MIC: MIC with different UDA methods (AdvSeg, MinEnt, DACS, '
             'DAFormer, HRDA) and networks, GTA->CS',
             grid([dict(**GTA2CS, **ADVSEG, **DLV2, **mic(32), gpu_model=GPU_11GB),
                   dict(**GTA2CS, **MINENT, **DLV2, **mic(32), gpu_model=GPU_11GB),
                   dict(**GTA2CS, **DACS, **DLV2, **mic(32), gpu_model=GPU_11GB),
                   dict(**GTA2CS, **DAFORMER_UDA, **DLV2, **mic(32), gpu_model=GPU_11GB),
                   dict(**GTAHR2CSHR, **HRDA_UDA, **HRDA_DLV2, inference='slide',
                        **mic(64), gpu_model=GPU_24GB),
                   dict(**GTA2CS, **DAFORMER_UDA, **DAFORMER_NET, **mic(32),
                        gpu_model=GPU_11GB)],
                  SEEDS)),
        82: ('mic', 'MIC: masking source/target images with/without augmentation '
             '(HRDA)',
             grid(HRDA_NET, dict(gpu_model=GPU_24GB),
                  [dict(**GTAHR2CSHR, **HRDA_UDA, **mic(64, mode='separatesrcaug')),
                   dict(**GTAHR2CSHR, **HRDA_UDA, **mic(64, mode='separateaug')),
                   dict(**CSHR2ACDCHR, **HRDA_UDA_NO_CPL,
                        **mic(64, mode='separatesrc')),
                   dict(**CSHR2ACDCHR, **HRDA_UDA_NO_CPL,
                        **mic(64, mode='separatetrg'))],
                  SEEDS)),
        83: ('mic', 'MIC: MIC components (augmentation, masking, EMA teacher, '
             'confidence weighting) with DAFormer',
             grid(GTA2CS, DAFORMER_NET, DAFORMER_UDA,
                  [dict(**mic(32, mode='separatetrg'), gpu_model=GPU_11GB),
                   dict(**mic(32, ratio=0), gpu_model=GPU_11GB),
                   dict(**mic(32, alpha=0), gpu_model=GPU_24GB),
                   dict(**mic(32, pseudo_threshold=None), gpu_model=GPU_24GB)],
                  SEEDS)),
        84: ('mic', 'MIC: mask block size and mask ratio with DAFormer',
             grid(GTA2CS, DAFORMER_NET, DAFORMER_UDA, dict(gpu_model=GPU_11GB),
                  [mic(block, ratio) for block in (16, 32, 64, 128)
                   for ratio in (0.3, 0.5, 0.7, 0.9)
                   if (block, ratio) != (32, 0.7)],  # the default: exp 81
                  SEEDS)),
        85: ('mic', 'MIC: masked image consistency in supervised training '
             '(CS->CS, source-only DACS)',
             grid(CS2CS, DAFORMER_NET, dict(uda='dacs_srconly'),
                  mic(32, mode='separatesrc'), dict(gpu_model=GPU_11GB), SEEDS)),
    }
    return experiments_of(specs)


def experiments_of(specs):
    """``{ID: (repository, description, rows)}`` → ``{ID: Experiment}``."""
    return {
        exp_id: Experiment(description, tuple(
            Params(exp=exp_id, **{**REPOSITORIES[repo], **row}) for row in rows))
        for exp_id, (repo, description, rows) in specs.items()
    }


def _more_uda_experiments():
    """Further UDA systems (SPEC-more-uda.md), beside the three papers' IDs."""
    specs = {
        # --- Label shift (Liu et al., CVPR 2022): alignment, then CR; IA on the aligned
        # model (tools/test.py --label-shift <alignment run>/label_shift.json) ---
        120: ('labelshift', 'Label shift: class-conditional alignment, then Classifier '
              'Rectification, DeepLabV2-R101 (full ASPP, full images), GTA->CS',
              grid(GTA2CS_FULL, LABEL_SHIFT_DLV2,
                   [LABEL_SHIFT_CDA, label_shift_cr(LABEL_SHIFT_CDA)], SEED0)),
        121: ('labelshift', 'Label shift: class-conditional alignment, then Classifier '
              'Rectification, DeepLabV2-R101 (full ASPP, full images), Synthia->CS',
              grid(SYN2CS_FULL, LABEL_SHIFT_DLV2,
                   [LABEL_SHIFT_CDA, label_shift_cr(LABEL_SHIFT_CDA)], SEED0)),
        122: ('labelshift', 'Label shift on DAFormer (not from the paper): DAFormer with the '
              'label-shift estimate (IA at test), then Classifier Rectification, GTA->CS',
              grid(GTA2CS, DAFORMER_NET,
                   [dict(DAFORMER_UDA, **LABEL_SHIFT_FROM_TEACHER),
                    label_shift_cr(DAFORMER_UDA)], SEED0)),
        123: ('labelshift', 'Label shift on HRDA+MIC (not from the paper): MIC(HRDA) with the '
              'label-shift estimate (IA at test), then Classifier Rectification, GTA->CS',
              grid(GTAHR2CSHR, HRDA_NET, dict(gpu_model=GPU_24GB),
                   [dict(HRDA_UDA, **mic(64), **LABEL_SHIFT_FROM_TEACHER),
                    label_shift_cr(dict(HRDA_UDA, **mic(64)))], SEED0)),
        # --- RIPU active domain adaptation (Xie et al., CVPR 2022): RA 2.2% / PA 40 px,
        # oracle labels from the Cityscapes train ground truth ---
        130: ('ripu', 'RIPU: region- (2.2%) and pixel-based (40 px) active DA, DeepLabV2-R101 '
              '(full ASPP, full images), GTA->CS', grid(GTA2CS_RIPU, RIPU_DLV2, RIPU_PAPER,
                                                        SEED0)),
        131: ('ripu', 'RIPU: region- (2.2%) and pixel-based (40 px) active DA, DeepLabV2-R101 '
              '(full ASPP, full images), Synthia->CS', grid(SYN2CS_RIPU, RIPU_DLV2,
                                                            RIPU_PAPER, SEED0)),
        132: ('ripu', 'RIPU selection on DAFormer (not from the paper): DAFormer + CE on the '
              'RA 2.2% / PA 40 px labelled target pixels, GTA->CS',
              grid(GTA2CS, DAFORMER_NET, DAFORMER_UDA, RIPU_DAFORMER, SEED0)),
        133: ('ripu', 'RIPU selection on HRDA+MIC (not from the paper): MIC(HRDA) + CE on the '
              'RA 2.2% / PA 40 px labelled target pixels, GTA->CS',
              grid(GTAHR2CSHR, HRDA_NET, dict(gpu_model=GPU_24GB), HRDA_UDA, mic(64),
                   RIPU_DAFORMER, SEED0)),
        # --- CPSL (Li et al., CVPR 2022): AdvSeg warm-up (then tools/cpsl_prepare.py),
        # stage 1 from it ---
        140: ('cpsl', 'CPSL stage 1: AdvSeg warm-up, then class-balanced pixel-level '
              'self-labeling, DeepLabV2-R101 (ProDA modified ASPP), GTA->CS',
              grid(GTA2CS_CPSL, CPSL_DLV2, [CPSL_WARMUP, CPSL_STAGE1], SEED0)),
        141: ('cpsl', 'CPSL stage 1: AdvSeg warm-up, then class-balanced pixel-level '
              'self-labeling, DeepLabV2-R101 (ProDA modified ASPP), Synthia->CS',
              grid(SYN2CS_CPSL, CPSL_DLV2, [CPSL_WARMUP, CPSL_STAGE1], SEED0)),
        142: ('cpsl', 'CPSL on DAFormer (not from the paper): AdvSeg warm-up, then CPSL '
              'stage 1, MiT-B5 DAFormer, GTA->CS',
              grid(GTA2CS_CPSL, DAFORMER_NET,
                   [DAFORMER_WARMUP, cpsl_from(DAFORMER_WARMUP, lr=6e-5, iters=40000)],
                   SEED0)),


        # --- ProCST (Ettedgui et al.): translator, then UDA on the translated source ---
        160: ('procst', 'ProCST: translator GTA->CS (official settings), then DAFormer, '
              'HRDA and HRDA+MIC on the translated GTA (gtaSiT)',
              grid(procst_uda_rows(GTASIT2CS, GTASITHR2CSHR), SEED0)),
        161: ('procst', 'ProCST: translator Synthia->CS (official settings), then DAFormer, '
              'HRDA and HRDA+MIC on the translated Synthia (synthiaSiT)',
              grid(procst_uda_rows(SYNSIT2CS, SYNSITHR2CSHR), SEED0)),
    }
    return experiments_of(specs)


# ---------------------------------------------------------------------------------------
# Experiment 0: the embedded SynthShift benchmark (configs/synthshift, CPU, minutes)
# ---------------------------------------------------------------------------------------

SYNTHSHIFT_METHODS = ('source_only', 'daformer', 'mic')
# Trained with --methods only, to keep the default run within 15 minutes on a 2-core AVX2
# CPU: DACS (DAFormer without its three strategies) and HRDA, which has no high resolution
# to exploit in 128x256 images (it loses 4-12 mIoU there).
SYNTHSHIFT_OPTIONAL_METHODS = ('dacs', 'hrda')
IMAGENET_MIT_B0 = osp.join('pretrained', 'mit_b0.pth')
# Written next to the pretrain run's checkpoint by run_experiments.py: the source model
# with its decoder at HRDA's shared-head keys and a fresh scale attention.
SYNTHSHIFT_HRDA_INIT = 'hrda_init.pth'


class SynthShiftRun(NamedTuple):
    """One run of experiment 0: ``method`` is 'pretrain' or one of SYNTHSHIFT_METHODS."""
    method: str
    seed: int


def imagenet_weights_present():
    return osp.isfile(osp.join(osp.dirname(CONFIGS_DIR), IMAGENET_MIT_B0))


def synthshift_config(run, seed=None):
    """The config dict of one SynthShift run (``_base_`` under ``configs/synthshift``).

    The 'pretrain' run trains the source model (from ImageNet MiT-B0 weights when
    ``pretrained/mit_b0.pth`` exists, else from scratch); every method starts from all of
    its weights (``load_from``) — the source-only baseline simply trains on — and with
    ImageNet weights DAFormer adds the thing-class feature distance (``daformer_fd.py``).
    """
    seed = run.seed if seed is None else seed
    imagenet = IMAGENET_MIT_B0 if imagenet_weights_present() else None
    pretrain_name = f'synthshift_pretrain_mitb0_s{seed}'
    if run.method == 'pretrain':
        return {'_base_': ['synthshift/pretrain.py'], 'exp': 0, 'seed': seed,
                'model': {'pretrained': imagenet}, 'method': 'pretrain',
                'export_hrda_init': {'config': 'synthshift/hrda.py',
                                     'file': SYNTHSHIFT_HRDA_INIT},
                'name': pretrain_name}
    source_model = osp.join('work_dirs', '0', pretrain_name,
                            SYNTHSHIFT_HRDA_INIT if run.method == 'hrda' else 'latest.pth')
    base = 'daformer_fd' if run.method == 'daformer' and imagenet else run.method
    return {'_base_': [f'synthshift/{base}.py'], 'exp': 0, 'seed': seed,
            'model': {'pretrained': imagenet}, 'load_from': source_model,
            'method': run.method, 'name': f'synthshift_{base}_mitb0_s{seed}'}


def synthshift_grid(seed=0, methods=SYNTHSHIFT_METHODS):
    return tuple(SynthShiftRun(method, seed) for method in ('pretrain',) + methods)


# ---------------------------------------------------------------------------------------
# Experiment 9: further UDA systems on SynthShift (SPEC-more-uda.md), from experiment 0's
# source model; its target has more person/vegetation/rider than the source by design
# ---------------------------------------------------------------------------------------

MORE_UDA_EXP = 9
MORE_UDA_METHODS = ('source_only', 'daformer', 'labelshift_cda', 'labelshift_cr')
# RIPU (active DA): DAFormer + CE on actively labelled target pixels (not from the paper),
# RA 2.2%, random regions with RA's budget, PA 40 px; from experiment 0's source model.
RIPU_METHODS = ('ripu_ra', 'random_ra', 'ripu_pa')
MORE_UDA_METHODS += RIPU_METHODS
# CPSL (Li et al. 2022): the AdvSeg warm-up (then tools/cpsl_prepare.py), CPSL from it.
MORE_UDA_METHODS += ('advseg', 'cpsl')
# ProCST (Ettedgui et al.): the translator, then DAFormer on the translated source.
MORE_UDA_METHODS += ('procst', 'procst_daformer')
# n_s of the label-shift estimate on SynthShift's 128x256 labels: 16 pixels (0.05%).
SYNTHSHIFT_LABEL_SHIFT_MIN_PIXELS = 16
LABEL_SHIFT_FILE = 'label_shift.json'


def more_uda_work_dir(name):
    return osp.join('work_dirs', str(MORE_UDA_EXP), name)


def more_uda_config(run, seed=None):
    """The config dict of one experiment-9 run. 'pretrain' is experiment 0's source model
    (``reuse_trained``: trained only when its work dir has no ``latest.pth``); source-only
    and DAFormer are experiment 0's configs; ``estimate_label_shift`` asks for
    ``<work dir>/label_shift.json`` and an Inference-Adjustment evaluation after training;
    CR starts from the alignment run and its label_shift.json; CPSL from the AdvSeg
    warm-up and its ``cpsl_prepare`` folder."""
    seed = run.seed if seed is None else seed
    if run.method in PROCST_METHODS:
        return procst_more_uda_config(run.method, seed)
    if run.method in ('pretrain', 'source_only', 'daformer'):
        cfg = dict(synthshift_config(SynthShiftRun(run.method, seed)), exp=MORE_UDA_EXP)
        if run.method == 'pretrain':
            cfg.update(work_dir=osp.join('work_dirs', '0', cfg['name']), reuse_trained=True)
        if run.method == 'daformer':
            cfg['estimate_label_shift'] = dict(min_pixels=SYNTHSHIFT_LABEL_SHIFT_MIN_PIXELS,
                                               weights='teacher')
        return cfg
    if run.method in RIPU_METHODS:
        return ripu_synthshift_config(run.method, seed)
    pretrain = synthshift_config(SynthShiftRun('pretrain', seed))
    cfg = {'_base_': [f'synthshift/{run.method}.py'], 'exp': MORE_UDA_EXP, 'seed': seed,
           'model': {'pretrained': None}, 'method': run.method,
           'name': f'synthshift_{run.method}_mitb0_s{seed}'}
    if run.method == 'labelshift_cda':
        cfg['load_from'] = osp.join('work_dirs', '0', pretrain['name'], 'latest.pth')
        cfg['estimate_label_shift'] = dict(min_pixels=SYNTHSHIFT_LABEL_SHIFT_MIN_PIXELS,
                                           weights='student')
    elif run.method == 'advseg':
        cfg['load_from'] = osp.join('work_dirs', '0', pretrain['name'], 'latest.pth')
        cfg['cpsl_prepare'] = {}
    elif run.method == 'cpsl':
        warmup = more_uda_work_dir(f'synthshift_advseg_mitb0_s{seed}')
        cfg['load_from'] = osp.join(warmup, 'latest.pth')
        cfg['uda'] = {'prepare_dir': osp.join(warmup, CPSL_PREPARE_DIR)}
    else:
        aligned = more_uda_work_dir(f'synthshift_labelshift_cda_mitb0_s{seed}')
        cfg['load_from'] = osp.join(aligned, 'latest.pth')
        cfg['uda'] = {'label_shift': {'file': osp.join(aligned, LABEL_SHIFT_FILE)}}
    return cfg


def ripu_synthshift_config(method, seed):
    """An experiment-9 RIPU row: ``configs/synthshift/<method>.py`` (DAFormer + labelled
    target pixels) from experiment 0's source model, like the DAFormer row."""
    pretrain = synthshift_config(SynthShiftRun('pretrain', seed))
    return {'_base_': [f'synthshift/{method}.py'], 'exp': MORE_UDA_EXP, 'seed': seed,
            'model': {'pretrained': None}, 'method': method,
            'load_from': osp.join('work_dirs', '0', pretrain['name'], 'latest.pth'),
            'name': f'synthshift_{method}_mitb0_s{seed}'}


# ProCST on SynthShift: 'procst' trains the translator (configs/synthshift/procst_translator.py,
# Seg_S = experiment 0's source model) and translates the source, whose colour statistics
# it reports; 'procst_daformer' is experiment 0's DAFormer on the translated source.
PROCST_METHODS = ('procst', 'procst_daformer')
SYNTHSHIFT_PROCST_CONFIG = 'configs/synthshift/procst_translator.py'


def synthshift_procst_translation(seed):
    """The ``translate_source`` entry of the SynthShift translator of ``seed``."""
    pretrain = synthshift_config(SynthShiftRun('pretrain', seed))
    source_model = osp.join('work_dirs', '0', pretrain['name'], 'latest.pth')
    return dict(config=SYNTHSHIFT_PROCST_CONFIG,
                work_dir=more_uda_work_dir(f'synthshift_procst_s{seed}'),
                cfg_options={'seed': seed,
                             'label_losses.source_segmentor.checkpoint': source_model,
                             'style_loss.feature_extractor.checkpoint': source_model},
                source_dir='data/synthshift/gta/images',
                out_dir=f'data/synthshift/gta/sit_procst_s{seed}',
                target_dir='data/synthshift/cityscapes/leftImg8bit/train')


def procst_more_uda_config(method, seed):
    """'procst': a translation-only row (no ``_base_``: nothing else to train), trained
    afresh at every call (``retrain``); 'procst_daformer': DAFormer whose source image
    folder is the translated one."""
    translation = synthshift_procst_translation(seed)
    if method == 'procst':
        return {'exp': MORE_UDA_EXP, 'seed': seed, 'method': method,
                'name': f'synthshift_procst_s{seed}', 'work_dir': translation['work_dir'],
                'translate_source': dict(translation, retrain=True)}
    cfg = dict(synthshift_config(SynthShiftRun('daformer', seed)), exp=MORE_UDA_EXP,
               method=method, name=f'synthshift_procst_daformer_mitb0_s{seed}',
               translate_source=translation)
    cfg['data'] = {'train': {'source': {'img_dir': osp.basename(translation['out_dir'])}}}
    return cfg


def more_uda_grid(seed=0):
    return tuple(SynthShiftRun(method, seed) for method in ('pretrain',) + MORE_UDA_METHODS)


# Experiments whose runs are SynthShiftRun rows, by ID: their config function.
SYNTHSHIFT_EXPERIMENTS = {0: synthshift_config, MORE_UDA_EXP: more_uda_config}

# The DAFormer, HRDA and MIC papers' IDs (checked against the authors' configs).
PAPER_EXPERIMENTS = _experiments()
MORE_UDA_EXPERIMENTS = _more_uda_experiments()
EXPERIMENTS = {
    0: Experiment('SynthShift (embedded, CPU, ~10 min, float32): source-only, DAFormer and '
                  'MIC (DACS, HRDA with --methods) with MiT-B0 on a procedural '
                  'GTA-layout -> Cityscapes-layout street-scene shift', synthshift_grid(),
                  tuple(SynthShiftRun(method, 0) for method in SYNTHSHIFT_OPTIONAL_METHODS)),
    MORE_UDA_EXP: Experiment(
        'SynthShift (embedded, CPU, ~10 min, float32), further UDA systems: label shift '
        '(Liu et al. 2022) - class-conditional alignment, + Classifier Rectification, + '
        'Inference Adjustment; DAFormer + IA; RIPU active DA (RA 2.2%, PA 40 px, random '
        'regions); CPSL (Li et al. 2022) from an AdvSeg warm-up; ProCST translator + '
        'DAFormer on the translated source; from the experiment-0 source model',
        more_uda_grid()),
    **PAPER_EXPERIMENTS,
    **MORE_UDA_EXPERIMENTS,
}


def describe_experiments():
    """One line per experiment ID: ``ID  (N configs)  description``."""
    return '\n'.join(f'{exp_id:>4}  ({len(e.grid):>2} configs)  {e.description}'
                     for exp_id, e in EXPERIMENTS.items())


def method_names(experiment):
    """The method names of a SynthShift experiment's grid and optional runs, in order,
    without its source model ('pretrain')."""
    return tuple(run.method for run in experiment.grid + experiment.optional
                 if run.method != 'pretrain')


def selected_runs(experiment, methods):
    """The SynthShiftRun rows of ``experiment`` for the method names ``methods`` (None: its
    grid), in grid order after its source model ('pretrain', always included)."""
    if methods is None:
        return experiment.grid
    rows = experiment.grid + experiment.optional
    known = method_names(experiment)
    unknown = sorted(set(methods) - set(known))
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; this experiment's methods: "
                         + ', '.join(known))
    return tuple(run for run in rows if run.method == 'pretrain' or run.method in methods)


def generate_experiment_cfgs(id, seed=None, methods=None):
    """The config dicts of experiment ``id`` in grid order.

    ``seed`` replaces the seed of the SynthShift experiments' runs (0, 9; the paper IDs fix
    their seeds); ``methods`` (names) selects among their runs and optional runs.
    """
    if id not in EXPERIMENTS:
        raise ValueError(f'unknown experiment ID {id!r}; valid IDs:\n' + describe_experiments())
    if id in SYNTHSHIFT_EXPERIMENTS:
        runs = selected_runs(EXPERIMENTS[id], methods)
        cfgs = (SYNTHSHIFT_EXPERIMENTS[id](run, seed) for run in runs)
        return [cfg for cfg in cfgs if cfg is not None]
    only_synthshift = ' and '.join(map(str, sorted(SYNTHSHIFT_EXPERIMENTS)))
    if seed is not None:
        raise ValueError(f'experiment {id} reproduces a paper table with its own seeds; '
                         f'--seed is only for experiment {only_synthshift}')
    if methods is not None:
        raise ValueError(f'--methods is only for experiment {only_synthshift}')
    return [build_config(p) for p in EXPERIMENTS[id].grid]
