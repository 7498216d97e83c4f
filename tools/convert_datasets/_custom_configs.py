"""The configs of tools/convert_datasets/custom.py: two dataset bases for the user's data
(DAFormer's half resolution, HRDA's full resolution) and one training config per method,
built by the paper-experiment routine (``experiments.build_config``) with the user's
dataset base, class count, thing classes and Rare Class Sampling threshold.
"""
import os.path as osp
import sys
import textwrap
from typing import NamedTuple, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:  # experiments.py, run_experiments.py and this repo's mmseg
    sys.path.insert(0, REPO_ROOT)
from experiments import (DAFORMER_NET, DAFORMER_UDA, HRDA_UDA_NO_CPL,  # noqa: E402
                         REPOSITORIES, Params, build_config, hrda_net, mic)
from run_experiments import write_config  # noqa: E402

IMG_NORM_CFG = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
# DAFormer's Rare Class Sampling threshold: 3000 pixels of GTA's 1914x1052 label maps.
PAPER_RCS_MIN_PIXELS = 3000
GTA_LABEL_PIXELS = 1914 * 1052
METHOD_TITLES = {
    'daformer': 'DAFormer (Hoyer et al., CVPR 2022): DAFormer network (MiT-B5 + context-aware '
                'fusion), DACS self-training with an EMA teacher (alpha 0.999), Rare Class '
                'Sampling and learning-rate warm-up, at half resolution',
    'hrda': 'HRDA (Hoyer et al., ECCV 2022): multi-resolution training of the DAFormer '
            'network (context crop at half, detail crop at full resolution, learned scale '
            'attention) with the DAFormer training strategies',
    'mic': 'MIC (Hoyer et al., CVPR 2023) on HRDA: masked image consistency on the target '
           'images (70% of the blocks masked)',
}


class DomainFiles(NamedTuple):
    """Absolute folders of one dataset config (``data_root``: where the statistics are)."""
    img_dir: str
    img_suffix: str
    ann_dir: Optional[str] = None
    seg_map_suffix: Optional[str] = None
    data_root: Optional[str] = None


class ConfigLayout(NamedTuple):
    """What the configs describe: the classes and the folders of the three datasets
    (``val`` None: the target has no validation labels, so no evaluation)."""
    name: str
    class_file: str
    classes: tuple
    palette: list
    thing_classes: tuple
    source: DomainFiles
    target: DomainFiles
    val: Optional[DomainFiles]


class Ref:
    """A variable of the written config file (its repr is the bare name)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


# ---------------------------------------------------------------------- dataset bases
def train_pipeline(ratio, labelled):
    """Rescale by ``ratio`` (of each image's own size), random ``crop_size`` crop (the
    source's steered away from single-class crops, as for GTA), flip, normalise."""
    steps = [dict(type='LoadImageFromFile')]
    if labelled:
        steps.append(dict(type='LoadAnnotations'))
    crop = dict(type='RandomCrop', crop_size=Ref('crop_size'))
    if labelled:
        crop['cat_max_ratio'] = 0.75
    steps += [dict(type='Resize', img_scale=None, ratio_range=(ratio, ratio)), crop,
              dict(type='RandomFlip', prob=0.5), dict(type='Normalize', **IMG_NORM_CFG),
              dict(type='Pad', size=Ref('crop_size'), pad_val=0, seg_pad_val=255),
              dict(type='DefaultFormatBundle'),
              dict(type='Collect', keys=['img', 'gt_semantic_seg'] if labelled else ['img'])]
    return steps


def test_pipeline(ratio):
    return [dict(type='LoadImageFromFile'),
            dict(type='MultiScaleFlipAug', img_scale=None, img_ratios=[ratio], flip=False,
                 transforms=[dict(type='Resize', keep_ratio=True), dict(type='RandomFlip'),
                             dict(type='Normalize', **IMG_NORM_CFG),
                             dict(type='ImageToTensor', keys=['img']),
                             dict(type='Collect', keys=['img'])])]


def pipelines(ratio, crop):
    return {'crop_size': (crop, crop),
            'source_train_pipeline': train_pipeline(ratio, labelled=True),
            'target_train_pipeline': train_pipeline(ratio, labelled=False),
            'test_pipeline': test_pipeline(ratio)}


def dataset_cfg(files, pipeline):
    """A ``CustomDataset`` config with the file's ``classes`` / ``palette`` variables."""
    cfg = dict(type='CustomDataset', classes=Ref('classes'), palette=Ref('palette'))
    cfg.update((key, value) for key, value in files._asdict().items() if value is not None)
    cfg['pipeline'] = Ref(pipeline)
    return cfg


def dataset_base(layout, crop):
    """The DAFormer-resolution base: classes, palette, pipelines at half resolution and the
    UDA data (source, target, target val / test)."""
    evaluated = layout.val or layout.target
    return {
        'classes': tuple(layout.classes),
        'palette': [list(map(int, c)) for c in layout.palette],
        **pipelines(0.5, crop),
        'data': dict(
            samples_per_gpu=2,
            workers_per_gpu=4,
            train=dict(type='UDADataset',
                       source=dataset_cfg(layout.source, 'source_train_pipeline'),
                       target=dataset_cfg(layout.target, 'target_train_pipeline')),
            val=dataset_cfg(evaluated, 'test_pipeline'),
            test=dataset_cfg(evaluated, 'test_pipeline')),
    }


def hr_dataset_base(lr_base_path, crop):
    """HRDA's full-resolution base: the DAFormer base with full-resolution pipelines."""
    return {
        '_base_': [lr_base_path],
        **pipelines(1.0, crop),
        'data': dict(
            train=dict(source=dict(pipeline=Ref('source_train_pipeline')),
                       target=dict(pipeline=Ref('target_train_pipeline'))),
            val=dict(pipeline=Ref('test_pipeline')),
            test=dict(pipeline=Ref('test_pipeline'))),
    }


# ------------------------------------------------------------------- method configs
def rcs_min_pixels(stats, mean_area):
    """DAFormer's threshold scaled to the source label area, lowered where needed so that
    every class keeps a file with more pixels of it (``UDADataset`` requires one)."""
    scaled = round(PAPER_RCS_MIN_PIXELS * mean_area / GTA_LABEL_PIXELS)
    largest = {}
    for file_stats in stats:
        for c, n in file_stats.items():
            if c != 'file':
                largest[c] = max(largest.get(c, 0), n)
    return min([scaled] + [n - 1 for n in largest.values()])


def method_params(layout, crop):
    """The :class:`experiments.Params` of each method: the paper settings (GTA→Cityscapes
    rows) without the Cityscapes-specific pseudo-label cropping."""
    uda = 'dacs_a999_fdthings' if layout.thing_classes else 'dacs'
    common = dict(exp=layout.name, seed=0, source=layout.name, target=layout.name)
    daformer = {**common, **REPOSITORIES['daformer'], **DAFORMER_NET, **DAFORMER_UDA,
                'uda': uda, 'plcrop': False, 'crop': f'{crop // 2}x{crop // 2}'}
    hrda = {**common, **REPOSITORIES['hrda'], **hrda_net(f'hrda1-{crop // 2}-0.1'),
            **HRDA_UDA_NO_CPL, 'uda': uda, 'crop': f'{crop}x{crop}', 'rcs_min_crop': 2.0}
    # MIC's 64x64 blocks of 1024x1024 crops, scaled with the crop.
    return {'daformer': Params(**daformer), 'hrda': Params(**hrda),
            'mic': Params(**hrda, **mic(crop // 16))}


def method_config(params, dataset_path, layout, min_pixels):
    """The paper config of ``params`` on the user's dataset base and classes."""
    cfg = build_config(params)
    cfg['_base_'] = [dataset_path if base.startswith('_base_/datasets/') else base
                     for base in cfg['_base_']]
    cfg['model']['decode_head']['num_classes'] = len(layout.classes)
    cfg['data']['train']['rare_class_sampling']['min_pixels'] = min_pixels
    uda = cfg.setdefault('uda', {})
    if layout.thing_classes:
        uda['imnet_feature_dist_classes'] = [layout.classes.index(t)
                                             for t in layout.thing_classes]
    else:
        uda['alpha'] = 0.999  # dacs_a999_fdthings.py's teacher, without the FD
    if layout.val is None:
        cfg['evaluation'] = None
    cfg['name_dataset'] = layout.name
    return cfg


def comment(*paragraphs):
    """Header text of a written config: each paragraph wrapped to the line width."""
    return '\n'.join(textwrap.fill(p, 86) for p in paragraphs)


def method_header(method, layout):
    things = (f'thing-class ImageNet feature distance for {", ".join(layout.thing_classes)}'
              if layout.thing_classes else 'no feature distance (no thing_classes)')
    evaluation = ('evaluated on the target val set' if layout.val else
                  'no evaluation (no target val labels)')
    return comment(
        f'{METHOD_TITLES[method]}.',
        f"Own data '{layout.name}' ({len(layout.classes)} classes from {layout.class_file}); "
        f'{things}; {evaluation}.',
        'Paper settings: MiT-B5 from pretrained/mit_b5.pth, batch 2 + 2, 40k iterations.',
        'Generated by tools/convert_datasets/custom.py; re-run it instead of editing (README '
        '"Your own data": a CPU smoke run).')


def write_configs(layout, config_dir, crop, stats, mean_area):
    """Write the dataset bases and the method configs into ``config_dir``; returns their
    paths (bases first)."""
    config_dir = osp.abspath(config_dir)
    lr_path = osp.join(config_dir, f'uda_{layout.name}_{crop // 2}x{crop // 2}.py')
    hr_path = osp.join(config_dir, f'uda_{layout.name}HR_{crop}x{crop}.py')
    source_note = (f"Own data '{layout.name}' from {layout.class_file}; generated by "
                   'tools/convert_datasets/custom.py (re-run it after moving the data).')
    write_config(dataset_base(layout, crop // 2), lr_path, header=comment(
        source_note, 'DAFormer resolution: images at half their size, random crops of '
        'crop_size.'))
    write_config(hr_dataset_base(lr_path, crop), hr_path, header=comment(
        source_note, 'HRDA resolution: images at their own size, random crops of crop_size.'))
    min_pixels = rcs_min_pixels(stats, mean_area)
    paths = [lr_path, hr_path]
    for method, params in method_params(layout, crop).items():
        path = osp.join(config_dir, f'{layout.name}_{method}.py')
        cfg = method_config(params, lr_path if method == 'daformer' else hr_path, layout,
                            min_pixels)
        cfg['name'] = f'{layout.name}_{method}'
        write_config(cfg, path, header=method_header(method, layout))
        paths.append(path)
    return paths
