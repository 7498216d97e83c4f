"""Training of the ProCST translator (SPEC-more-uda.md §4.2): one pyramid level after the
other, earlier levels frozen; per level a checkpoint ``scale_<n>.pth``, written atomically,
and ``scale_<n>_resume.pth`` every ``checkpoint_interval`` steps, so that an interrupted
run continues where it stopped (``tools/procst/train.py``).

Every random draw of step t of level n (the samples, their crops and flips, the
gradient-penalty mixing) comes from the seed ``(seed, n, t)`` only, and each level's
initial weights (Seg_SiT's too) from ``(seed, n)``: a resumed run computes exactly what an uninterrupted
one computes."""
import os
import os.path as osp
import sys
from functools import partial

import numpy as np
import torch

from mmseg.datasets import build_dataset
from mmseg.datasets.seeded_sample_dataset import SeededSampleDataset
from mmseg.models.translation import build_translation, cycle_loss, gradient_penalty
from mmseg.models.translation.procst_translator import OUTPUT_DOMAIN
from mmseg.utils.checkpoint import atomic_link_or_copy, atomic_save, load_weights_file
from mmseg.utils.seeded_rngs import seeded_global_rngs

SOURCE, TARGET = 1, 2  # entropy words of the two domains' samples
LABEL_LOSSES = 3  # entropy word of Seg_SiT's initial weights
LOSS_WEIGHT_KEYS = ('adversarial', 'gradient_penalty', 'cycle', 'labels', 'style')


def scale_checkpoint(work_dir, scale):
    return osp.join(work_dir, f'scale_{scale}.pth')


def resume_checkpoint(work_dir, scale):
    return osp.join(work_dir, f'scale_{scale}_resume.pth')


class StepBatches:
    """Batch sampler of ``SeededSampleDataset`` keys for steps ``start..stop-1``: step t
    draws ``batch_size`` indices (with replacement) and per-sample seeds from
    ``(seed, scale, t, domain)``."""

    def __init__(self, length, batch_size, seed, scale, domain, start, stop):
        self.length, self.batch_size = length, batch_size
        self.words = (seed, scale, domain)
        self.start, self.stop = start, stop

    def __len__(self):
        return self.stop - self.start

    def __iter__(self):
        seed, scale, domain = self.words
        for step in range(self.start, self.stop):
            rng = np.random.default_rng([seed, scale, step, domain])
            indices = rng.integers(self.length, size=self.batch_size)
            yield [(int(i), (seed, scale, step, domain, k)) for k, i in enumerate(indices)]


def step_loader(dataset, batch_size, workers, seed, scale, domain, start, stop):
    from mmcv.parallel import collate
    return torch.utils.data.DataLoader(
        SeededSampleDataset(dataset),
        batch_sampler=StepBatches(len(dataset), batch_size, seed, scale, domain, start, stop),
        num_workers=workers, collate_fn=partial(collate, samples_per_gpu=batch_size))


def unpack(batch, key):
    """The stacked tensor of a collated DataContainer entry."""
    return batch[key].data[0]


def check_translator_cfg(cfg, config_path):
    missing = [k for k in ('translator', 'data', 'optimizer', 'loss_weights', 'seed',
                           'epochs_per_scale', 'epoch_size') if k not in cfg]
    if missing:
        raise KeyError(f'{config_path}: a ProCST translator config needs {missing}')
    weights = cfg.loss_weights
    unknown = sorted(set(weights) - set(LOSS_WEIGHT_KEYS))
    if unknown:
        raise KeyError(f'{config_path}: unknown loss_weights {unknown}; expected '
                       f'{list(LOSS_WEIGHT_KEYS)}')
    levels = cfg.translator.get('num_scales', 2) + 1
    if len(cfg.data.samples_per_gpu) != levels:
        raise ValueError(f'{config_path}: data.samples_per_gpu needs one batch size per level '
                         f'({levels}), got {cfg.data.samples_per_gpu}')


def build_translator(cfg):
    """The translator of a config (per-level batch sizes from ``data.samples_per_gpu``)."""
    return build_translation(build_translator_cfg(cfg))


def steps_per_scale(cfg, scale):
    """``epochs_per_scale`` epochs of ``epoch_size`` samples (official), capped by
    ``max_steps_per_scale`` when set."""
    steps = cfg.epochs_per_scale * (cfg.epoch_size // cfg.data.samples_per_gpu[scale])
    cap = cfg.get('max_steps_per_scale')
    return steps if cap is None else min(steps, cap)


class LevelTrainer:
    """The training of one pyramid level: critic step, generator step (adversarial,
    style, cycle and, at the last level, label cycle), and at the last level the
    Seg_SiT step (SPEC-more-uda.md §4.2 steps 3-6)."""

    def __init__(self, cfg, translator, scale, style_loss, label_losses):
        self.cfg, self.translator, self.scale = cfg, translator, scale
        self.weights = {k: cfg.loss_weights.get(k, 0) for k in LOSS_WEIGHT_KEYS}
        self.style_loss = style_loss
        self.label_cycle = label_losses.get('source_segmentor')
        self.sit_segmentor = label_losses.get('sit_segmentor')
        opt = cfg.optimizer
        betas = tuple(opt.get('betas', (0.9, 0.999)))
        generators = [translator.generators[d][scale] for d in ('st', 'ts')]
        critics = [translator.critics[d][scale] for d in ('target', 'source')]
        self.optimizer_g = torch.optim.Adam([p for g in generators for p in g.parameters()],
                                            lr=opt.lr_g, betas=betas)
        self.optimizer_d = torch.optim.Adam([p for c in critics for p in c.parameters()],
                                            lr=opt.lr_d, betas=betas)
        self.optimizer_seg = self.sit_segmentor.build_optimizer() \
            if self.sit_segmentor is not None else None

    def state_dict(self):
        state = dict(translator=self.translator.state_dict(),
                     optimizer_g=self.optimizer_g.state_dict(),
                     optimizer_d=self.optimizer_d.state_dict())
        if self.sit_segmentor is not None:
            state['sit_segmentor'] = self.sit_segmentor.state_dict()
            state['optimizer_seg'] = self.optimizer_seg.state_dict()
        return state

    def load_state_dict(self, state):
        self.translator.load_state_dict(state['translator'])
        self.optimizer_g.load_state_dict(state['optimizer_g'])
        self.optimizer_d.load_state_dict(state['optimizer_d'])
        if self.sit_segmentor is not None:
            self.sit_segmentor.load_state_dict(state['sit_segmentor'])
            self.optimizer_seg.load_state_dict(state['optimizer_seg'])

    def train_step(self, source, target, labels):
        """source, target: N×3×H×W in [-1, 1] at the last level's resolution; labels
        N×1×H×W. Returns (detached losses, images for logging)."""
        n, w, tr = self.scale, self.weights, self.translator
        source_pyramid = tr.pyramid(source)[:n + 1]
        target_pyramid = tr.pyramid(target)[:n + 1]
        inputs = {'st': source_pyramid, 'ts': target_pyramid}
        real = {'target': target_pyramid[n], 'source': source_pyramid[n]}
        log = {}

        # (1) critics: -D(real) + D(G(x)) + GP, for both domains
        self.optimizer_d.zero_grad(set_to_none=True)
        for direction in ('st', 'ts'):
            domain = OUTPUT_DOMAIN[direction]
            critic = tr.critic(domain, n)
            with torch.no_grad():
                fake = tr.translate(inputs[direction], direction, n)
            loss_real, loss_fake = -critic(real[domain]).mean(), critic(fake).mean()
            loss = loss_real + loss_fake
            if w['gradient_penalty']:
                gp = gradient_penalty(critic, real[domain], fake, w['gradient_penalty'])
                loss = loss + gp
                log[f'{direction}.D.loss_gp'] = gp.detach()
            (w['adversarial'] * loss).backward()
            log[f'{direction}.D.loss_real'] = loss_real.detach()
            log[f'{direction}.D.loss_fake'] = loss_fake.detach()
        self.optimizer_d.step()

        # (2) generators: adversarial + style + cycle (+ label cycle at the last level)
        self.optimizer_g.zero_grad(set_to_none=True)
        images = {}
        total = 0
        for direction, other in (('st', 'source'), ('ts', 'target')):
            domain = OUTPUT_DOMAIN[direction]
            loss_cycle, fake, back = cycle_loss(tr, inputs[direction], direction, n)
            images[direction], images[f'{direction}_back'] = fake, back
            adversarial = -tr.critic(domain, n)(fake).mean()
            total = total + w['adversarial'] * adversarial + w['cycle'] * loss_cycle
            log[f'{direction}.G.loss_adv'] = adversarial.detach()
            log[f'{direction}.G.loss_cycle'] = loss_cycle.detach()
            if w['style'] and self.style_loss is not None:
                style = self.style_loss(fake, real[other], real[domain])
                total = total + w['style'] * style['loss']
                log.update({f'{direction}.G.{k}': v.detach() for k, v in style.items()})
            if direction == 'st' and w['labels'] and self.label_cycle is not None:
                loss_labels = self.label_cycle(back, labels)
                total = total + w['labels'] * loss_labels
                log['st.G.loss_label_cycle'] = loss_labels.detach()
        total.backward()
        self.optimizer_g.step()

        # (3) Seg_SiT on the translated source; its CE also trains G_st
        if w['labels'] and self.sit_segmentor is not None:
            self.optimizer_seg.zero_grad(set_to_none=True)
            self.optimizer_g.zero_grad(set_to_none=True)
            loss_sit = self.sit_segmentor(tr.translate(source_pyramid, 'st', n), labels)
            (w['labels'] * loss_sit).backward()
            self.optimizer_seg.step()
            self.optimizer_g.step()
            log['sit.loss_seg'] = loss_sit.detach()
        images.update(source=source_pyramid[n], target=target_pyramid[n])
        return log, images


def image_grid(images):
    """Rows S, S->T, S->T->S and T, T->S, T->S->T of the first sample, in [0, 1]."""
    from torchvision.utils import make_grid
    order = ('source', 'st', 'st_back', 'target', 'ts', 'ts_back')
    return make_grid([(images[k][0].detach() + 1) / 2 for k in order], nrow=3).clamp(0, 1)


def build_label_losses(cfg):
    """The label losses of the last level (``label_losses``: ``source_segmentor`` and
    ``sit_segmentor`` configs, each None to switch it off)."""
    if not cfg.loss_weights.get('labels', 0):
        return {}
    return {k: build_translation(v) for k, v in (cfg.get('label_losses') or {}).items()
            if v is not None}


def train_translator(cfg, work_dir, config_path='config', logger=None):
    """Train every level not yet finished in ``work_dir``; returns the last level's
    checkpoint path (also linked as ``latest.pth``)."""
    import mmcv
    from torch.utils.tensorboard import SummaryWriter
    check_translator_cfg(cfg, config_path)
    log = logger.info if logger is not None else print
    os.makedirs(work_dir, exist_ok=True)
    translator = build_translator(cfg)
    source = build_dataset(cfg.data.source)
    target = build_dataset(cfg.data.target)
    style_loss = build_translation(cfg.style_loss) \
        if cfg.loss_weights.get('style', 0) and cfg.get('style_loss') else None
    writer = SummaryWriter(osp.join(work_dir, 'tf_logs'))
    log_interval, image_interval = cfg.get('log_interval', 50), cfg.get('image_interval', 500)
    checkpoint_interval = cfg.get('checkpoint_interval', 1000)
    workers = cfg.data.get('workers_per_gpu', 0)
    meta = dict(config=cfg.pretty_text, translator_cfg=dict(build_translator_cfg(cfg)))
    for scale in range(translator.levels):
        final = scale_checkpoint(work_dir, scale)
        if osp.isfile(final):
            translator.load_state_dict(load_weights_file(final, 'translator checkpoint')
                                       ['translator'])
            log(f'level {scale}: done ({final})')
            continue
        translator.freeze_below(scale)
        last = scale == translator.num_scales
        with seeded_global_rngs((cfg.seed, scale, 0, LABEL_LOSSES)):
            label_losses = build_label_losses(cfg) if last else {}
        trainer = LevelTrainer(cfg, translator, scale, style_loss, label_losses)
        for module in translator.level_modules(scale):
            module.train()
        start, total = 0, steps_per_scale(cfg, scale)
        resume = resume_checkpoint(work_dir, scale)
        if osp.isfile(resume):
            state = load_weights_file(resume, 'translator resume checkpoint')
            trainer.load_state_dict(state)
            start = state['step']
            log(f'level {scale}: resumed at step {start} from {resume}')
        batch = cfg.data.samples_per_gpu[scale]
        loaders = [step_loader(ds, batch, workers, cfg.seed, scale, domain, start, total)
                   for ds, domain in ((source, SOURCE), (target, TARGET))]
        log(f'level {scale}: {total} steps of {batch} images')
        progress = mmcv.ProgressBar(total - start, file=sys.stdout) if total > start else None
        for step, (src, trg) in enumerate(zip(*loaders), start):
            with seeded_global_rngs((cfg.seed, scale, step, 0)):
                losses, images = trainer.train_step(
                    unpack(src, 'img'), unpack(trg, 'img'), unpack(src, 'gt_semantic_seg'))
            done = step + 1
            if done % log_interval == 0 or done == total:
                values = {k: float(v) for k, v in losses.items()}
                for k, v in values.items():
                    writer.add_scalar(f'scale{scale}/{k}', v, done)
                log(f'level {scale} step {done}/{total}: ' +
                    ', '.join(f'{k}: {v:.4f}' for k, v in values.items()))
            if done % image_interval == 0 or done == total:
                writer.add_image(f'scale{scale}/S_ST_STS__T_TS_TST', image_grid(images), done)
            if done % checkpoint_interval == 0 and done < total:
                atomic_save(dict(trainer.state_dict(), step=done), resume)
            progress.update()
        if progress is not None:
            sys.stdout.write('\n')
        state = dict(translator=translator.state_dict(), scale=scale, meta=meta)
        if trainer.sit_segmentor is not None:
            state['sit_segmentor'] = trainer.sit_segmentor.segmentor.state_dict()
        atomic_save(state, final)
        if osp.isfile(resume):
            os.remove(resume)
        writer.flush()
    writer.close()
    final = scale_checkpoint(work_dir, translator.num_scales)
    atomic_link_or_copy(final, osp.join(work_dir, 'latest.pth'))
    return final


def build_translator_cfg(cfg):
    """The translator config as ``build_translator`` completes it (stored in checkpoints:
    ``tools/procst/translate.py`` rebuilds the networks from it)."""
    return dict(cfg.translator, images_per_gpu=list(cfg.data.samples_per_gpu), seed=cfg.seed)
