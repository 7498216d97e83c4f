"""Summary of the runs of one experiment: a Markdown table (method, target mIoU, per-class
IoU, train time), a bar chart and prediction overlays on a few validation images.

Reads what the runs left in their work dirs: the last validation entry of
``*.log.json`` (written by the evaluation hook) and ``latest.pth``.
"""
import glob
import json
import math
import os
import os.path as osp
from typing import NamedTuple, Optional


class RunResult(NamedTuple):
    label: str  # method shown in the table
    work_dir: str
    train_time: Optional[float]  # seconds, None when unknown
    miou: float  # in [0, 1], nan when the run has no validation entry
    class_iou: dict  # class name -> IoU in [0, 1] (nan: class absent from val)


def last_validation(work_dir):
    """The last ``mode == 'val'`` entry of the newest ``*.log.json`` in ``work_dir``."""
    logs = sorted(glob.glob(osp.join(work_dir, '*.log.json')), key=osp.getmtime)
    if not logs:
        raise FileNotFoundError(f'no *.log.json in {work_dir}: did the run finish?')
    entries = []
    with open(logs[-1]) as f:
        for line in f:
            entry = json.loads(line)
            if entry.get('mode') == 'val':
                entries.append(entry)
    if not entries:
        raise ValueError(f'{logs[-1]} has no validation entry (mode "val"); the run must '
                         'evaluate at its last iteration (cfg.evaluation.interval)')
    return entries[-1]


def read_run(label, work_dir, train_time=None):
    val = last_validation(work_dir)
    class_iou = {k[len('IoU.'):]: v for k, v in val.items() if k.startswith('IoU.')}
    return RunResult(label, work_dir, train_time, val['mIoU'], class_iou)


def _pct(value):
    return 'n/a' if value is None or math.isnan(value) else f'{100 * value:.1f}'


def markdown_table(results, baseline=None):
    """Methods as rows; the classes present in any run's validation as columns."""
    classes = [c for c in results[0].class_iou
               if any(not math.isnan(r.class_iou.get(c, math.nan)) for r in results)]
    header = ['method', 'target mIoU']
    if baseline is not None:
        header.append(f'Δ vs {baseline.label}')
    header += classes + ['train time']
    rows = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for r in results:
        cells = [r.label, _pct(r.miou)]
        if baseline is not None:
            cells.append(f'{100 * (r.miou - baseline.miou):+.1f}')
        cells += [_pct(r.class_iou.get(c)) for c in classes]
        cells.append('n/a' if r.train_time is None else f'{r.train_time / 60:.1f} min')
        rows.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows)


def bar_chart(results, path, title):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(1.4 * len(results) + 2, 3.5))
    values = [100 * r.miou for r in results]
    bars = ax.bar([r.label for r in results], values, color='tab:blue')
    for bar, value in zip(bars, values):
        ax.text(bar.get_x() + bar.get_width() / 2, value, f'{value:.1f}', ha='center',
                va='bottom', fontsize=9)
    ax.set_ylabel('target mIoU (%)')
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def prediction_overlays(results, config_of, images, labels, path, device='cpu'):
    """One row per image: the image, its ground truth and each run's prediction."""
    import cv2
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    from mmseg.apis.inference import inference_segmentor, init_segmentor
    from mmseg.utils.visualization import colorize

    predictions, palette = [], None
    for r in results:
        model = init_segmentor(config_of(r), osp.join(r.work_dir, 'latest.pth'),
                               device=device)
        palette = np.asarray(model.PALETTE, dtype=np.uint8)
        predictions.append([inference_segmentor(model, img)[0] for img in images])
    cols = 2 + len(results)
    fig, axes = plt.subplots(len(images), cols, figsize=(2.6 * cols, 1.6 * len(images)),
                             squeeze=False)
    for i, (img, label) in enumerate(zip(images, labels)):
        gt = cv2.imread(label, cv2.IMREAD_UNCHANGED)
        panels = [cv2.cvtColor(cv2.imread(img), cv2.COLOR_BGR2RGB), colorize(gt, palette)]
        panels += [colorize(p[i], palette) for p in predictions]
        titles = ['target image', 'ground truth'] + [r.label for r in results]
        for ax, panel, title in zip(axes[i], panels, titles):
            ax.imshow(panel)
            ax.axis('off')
            if i == 0:
                ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_summary(out_dir, title, results, baseline=None, overlays=None, environment=(),
                  sections=()):
    """``summary.md`` + ``miou.png`` (+ ``predictions.png`` when ``overlays`` is a dict
    with ``config_of``, ``images``, ``labels`` and optionally ``results``, the runs to draw,
    default all) in ``out_dir``; ``environment``: lines saying where and how the numbers
    were computed; ``sections``: further Markdown blocks at the end. Returns the Markdown."""
    os.makedirs(out_dir, exist_ok=True)
    table = markdown_table(results, baseline)
    bar_chart(results, osp.join(out_dir, 'miou.png'), title)
    text = [f'# {title}', '', table, '']
    if environment:
        text += ['Computed with:'] + [f'- {line}' for line in environment] + ['']
    text += ['![target mIoU](miou.png)', '']
    if overlays:
        overlays = dict(overlays)
        prediction_overlays(overlays.pop('results', results),
                            path=osp.join(out_dir, 'predictions.png'), **overlays)
        text += ['![predictions on target val](predictions.png)', '']
    text += list(sections)
    markdown = '\n'.join(text)
    with open(osp.join(out_dir, 'summary.md'), 'w') as f:
        f.write(markdown)
    return markdown
