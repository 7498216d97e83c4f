"""RIPU's selection rounds during training (SPEC-more-uda.md §3.2 steps 1-4, §3.4).

A config with ``active_selection = dict(...)`` (``configs/_base_/uda/ripu_*.py``) trains
with an :class:`ActiveSelectionHook`; the target train pipeline then reads the labels of the
store (:class:`~mmseg.datasets.pipelines.LoadActiveAnnotations`) instead of the ground
truth, and the UDA wrapper receives them as ``target_gt_semantic_seg``.
"""
import copy
import os.path as osp
import shutil

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.runner import Hook, get_dist_info

from mmseg.core.hooks import ResumableCheckpointHook
from mmseg.core.training_state import unwrap_model
from mmseg.datasets.active_label_store import ActiveLabelStore, image_key
from mmseg.datasets.pipelines import Compose, Normalize
from mmseg.models.uda.active_selection import (ENTROPY_NORM_CLASSES, pixel_scores,
                                               region_scores, regions_per_round,
                                               select_regions)

STORE_FOLDER = 'active_labels'
MODES = ('RA', 'PA')
LABEL_SOURCES = ('oracle', 'human')
SELECTIONS = ('ripu', 'random')


def configure_active_labels(cfg):
    """For a config with ``active_selection``: the store at ``<work_dir>/active_labels``,
    and the target train pipeline's ``LoadAnnotations`` replaced by
    ``LoadActiveAnnotations`` of that store (in place; no-op without active_selection)."""
    if cfg.get('active_selection') is None:
        return
    store_dir = osp.join(cfg.work_dir, STORE_FOLDER)
    cfg.active_selection.store_dir = store_dir
    target = cfg.data.train.get('target')
    if target is None:
        raise KeyError('active_selection needs a UDA config: data.train.target is missing')
    pipeline = target.pipeline
    loaders = [i for i, t in enumerate(pipeline)
               if t['type'] in ('LoadAnnotations', 'LoadActiveAnnotations')]
    if len(loaders) != 1:
        raise ValueError('active_selection: data.train.target.pipeline must have one '
                         f'LoadAnnotations (the labels are read from the store), got '
                         f'{[t["type"] for t in pipeline]}')
    pipeline[loaders[0]] = dict(type='LoadActiveAnnotations', store_dir=store_dir)


def scaled_iterations(select_iters, schedule_iters, max_iters):
    """The configured iterations (of a ``schedule_iters`` run) in a ``max_iters`` run, each
    at least 1; None ``schedule_iters`` keeps them as they are."""
    if schedule_iters is None:
        return list(select_iters)
    return [max(1, round(i * max_iters / schedule_iters)) for i in select_iters]


class ActiveSelectionHook(Hook):
    """After iteration ``select_iters[r]`` (rescaled from ``schedule_iters`` to the run's
    ``max_iters``) score every target train image and publish round r+1 of the store.

    Args:
        target (Dataset): the target train set (images, and the labels for 'oracle').
        store_dir (str): the store folder.
        select_iters (list[int]): one iteration per round (the official 10k..18k).
        mode (str): 'RA' (regions, ``ratio`` of the pixels over all rounds) or 'PA'
            (``pixels`` per ``select_scale`` image over all rounds).
        radius_k (int): the window radius k (1 for RA, 32 for PA).
        schedule_iters (int | None): the run length ``select_iters`` refer to.
        select_scale (tuple | None): (w, h) the images are resized to for scoring (the
            official 1280×640); the scores are computed at the original size.
        label_source (str): 'oracle' copies the target ground truth into the selected
            pixels; 'human' writes an annotation request and stops the run after saving a
            checkpoint (tools/active_request.py, tools/active_ingest.py, then resume).
        selection (str): 'ripu' (impurity × uncertainty) or 'random' (uniform scores: the
            random-region baseline with the same budget).
        norm_classes (int): log(norm_classes) normalises the RA entropies.
        seed (int): seed of the random selection.
        score_batch (int): images per scoring forward pass (faster; the same scores up to
            float rounding).
    """

    def __init__(self, target, store_dir, select_iters, mode='RA', ratio=0.022, pixels=40,
                 radius_k=1, schedule_iters=None, select_scale=None, label_source='oracle',
                 selection='ripu', norm_classes=ENTROPY_NORM_CLASSES, seed=0,
                 score_batch=8):
        for key, value, valid in (('mode', mode, MODES), ('label_source', label_source,
                                                          LABEL_SOURCES),
                                  ('selection', selection, SELECTIONS)):
            if value not in valid:
                raise ValueError(f'active_selection.{key} must be one of {valid}, got '
                                 f'{value!r}')
        if not select_iters or sorted(select_iters) != list(select_iters):
            raise ValueError('active_selection.select_iters must be a non-empty ascending '
                             f'list, got {select_iters!r}')
        self.target = target
        self.store = ActiveLabelStore(store_dir)
        self.select_iters = list(select_iters)
        self.schedule_iters = schedule_iters
        self.mode, self.ratio, self.pixels, self.radius_k = mode, ratio, pixels, radius_k
        self.select_scale = select_scale
        self.label_source, self.selection = label_source, selection
        self.norm_classes, self.seed, self.score_batch = norm_classes, seed, score_batch
        self.pipeline = self.scoring_pipeline(target, select_scale)
        self.iterations = None
        self.labelled_pct = 0.0

    @staticmethod
    def scoring_pipeline(target, select_scale):
        """Load, resize to ``select_scale``, normalise like the target train pipeline."""
        norms = [t for t in target.pipeline.transforms if isinstance(t, Normalize)]
        if not norms:
            raise ValueError('active_selection: the target train pipeline has no Normalize '
                             'step to normalise the scored images like the training ones')
        norm = norms[0]
        steps = [dict(type='LoadImageFromFile')]
        if select_scale is not None:
            steps.append(dict(type='Resize', img_scale=tuple(select_scale), keep_ratio=False))
        steps += [dict(type='Normalize', mean=norm.mean.tolist(), std=norm.std.tolist(),
                       to_rgb=norm.to_rgb),
                  dict(type='ImageToTensor', keys=['img']),
                  dict(type='Collect', keys=['img'],
                       meta_keys=('filename', 'ori_filename', 'ori_shape', 'img_shape',
                                  'pad_shape', 'scale_factor', 'img_norm_cfg'))]
        return Compose(steps)

    def rounds_at(self, iteration):
        """1-based rounds scheduled after ``iteration`` (several when rescaling merges
        them)."""
        return [r + 1 for r, it in enumerate(self.iterations) if it == iteration]

    def before_run(self, runner):
        self.iterations = scaled_iterations(self.select_iters, self.schedule_iters,
                                            runner.max_iters)
        for path in self.store.remove_unfinished():
            runner.logger.warning(f'Removed {path}, left by a selection round that was '
                                  'interrupted')
        published = self.store.rounds()
        if runner.iter == 0 and published:
            published = self.discard_earlier_run(runner, published)
        for meta in published:
            expected = self.iterations[meta['round'] - 1] if meta['round'] <= len(
                self.iterations) else None
            if meta['iteration'] != expected:
                raise ValueError(
                    f"{self.store.round_dir(meta['round'])}: round {meta['round']} was "
                    f"selected after iteration {meta['iteration']}, but this run schedules "
                    f'it after {expected} (select_iters {self.iterations}); use a new '
                    'work_dir for another schedule')
        in_use = [m for m in published if m['iteration'] <= runner.iter]
        self.set_in_use(in_use)
        runner.logger.info(f'Active labels: {len(published)} round(s) in {self.store.root}, '
                           f'{len(in_use)} in use after iteration {runner.iter}; rounds after '
                           f'iterations {self.iterations}')
        # Rounds due but not selected: the later rounds of an iteration whose first round
        # stopped the run for human labels.
        for round_index, iteration in enumerate(self.iterations, 1):
            if iteration <= runner.iter and round_index > len(published):
                self.select_round(runner, round_index, iteration)
                published = self.store.rounds()
                self.set_in_use(published)
                if self.label_source == 'human':
                    raise SystemExit(self.annotation_message(runner, round_index))

    def discard_earlier_run(self, runner, published):
        """A run from scratch in a folder whose store holds rounds of an earlier run: oracle
        rounds are deleted (the run selects them again), human labels are never."""
        human = [m['round'] for m in published if m['label_source'] == 'human']
        if human:
            raise ValueError(
                f'{self.store.root} holds human-labelled rounds {human} of an earlier run, '
                'but this run starts from scratch; resume it (--auto-resume) or use another '
                'work_dir')
        if get_dist_info()[0] == 0:
            for meta in published:
                shutil.rmtree(self.store.round_dir(meta['round']))
        runner.logger.warning(f'Active labels: deleted the {len(published)} oracle round(s) '
                              f'of an earlier run in {self.store.root} (this run starts from '
                              'scratch)')
        return []

    def set_in_use(self, metas):
        if get_dist_info()[0] == 0:
            self.store.set_rounds_in_use(len(metas))
        self.labelled_pct = 100.0 * sum(m['selected_pixels'] / m['total_pixels']
                                        for m in metas)

    def after_train_iter(self, runner):
        iteration = runner.iter + 1
        for round_index in self.rounds_at(iteration):
            published = self.store.rounds()
            if round_index <= len(published):
                runner.logger.info(f'Active labels: round {round_index} is already in the '
                                   'store (resumed run); not selected again')
            else:
                self.select_round(runner, round_index, iteration)
            metas = self.store.rounds()[:round_index]
            self.set_in_use(metas)
            runner.logger.info(f'Active labels after round {round_index}: '
                               f'{self.labelled_pct:.3f}% of the target pixels selected')
            if self.label_source == 'human' and len(published) < round_index:
                self.stop_for_annotation(runner, round_index)
        runner.log_buffer.update({'active.labelled_pct': self.labelled_pct})

    def select_round(self, runner, round_index, iteration):
        """Score every target image and publish round ``round_index`` (rank 0; the others
        wait)."""
        rank, world_size = get_dist_info()
        if rank == 0:
            meta = self.write_round(unwrap_model(runner.model), round_index, iteration)
            runner.logger.info(
                f"Active labels: round {round_index} after iteration {iteration}: "
                f"{meta['regions']} {'regions' if self.mode == 'RA' else 'pixels'} over "
                f"{meta['images']} images, {meta['labelled_pixels']} labelled pixels")
        if world_size > 1:
            torch.distributed.barrier()

    def write_round(self, uda, round_index, iteration):
        student = uda.get_model() if hasattr(uda, 'get_model') else uda
        was_training = student.training
        student.eval()
        writer = self.store.begin_round(round_index)
        totals = dict(selected_pixels=0, total_pixels=0, labelled_pixels=0, regions=0)
        try:
            for idx, score in self.scores(uda, student, round_index):
                key = image_key(self.target.img_infos[idx]['filename'])
                shape = tuple(score.shape)
                num = self.regions_per_round(shape)
                previous = self.store.active(key, shape, round_index - 1)
                selected, active = select_regions(
                    score, torch.from_numpy(previous).to(score.device), num,
                    label_radius=self.radius_k if self.mode == 'RA' else 0,
                    suppress_radius=2 * self.radius_k if self.mode == 'RA' else self.radius_k)
                selected, active = selected.cpu().numpy(), active.cpu().numpy()
                labels = np.full(shape, 255, np.uint8)
                if self.label_source == 'oracle':
                    gt = self.target.get_gt_seg_map_by_idx(idx)
                    labels[selected] = gt[selected]
                writer.add(key, selected, active & ~previous, labels)
                totals['selected_pixels'] += int(selected.sum())
                totals['labelled_pixels'] += int((labels != 255).sum())
                totals['total_pixels'] += int(selected.size)
                totals['regions'] += num
        finally:
            student.train(was_training)
        meta = dict(totals, iteration=iteration, images=len(self.target.img_infos),
                    label_source=self.label_source, selection=self.selection,
                    mode=self.mode)
        writer.publish(meta)
        return meta

    def regions_per_round(self, shape):
        select_size = None if self.select_scale is None else self.select_scale[::-1]
        return regions_per_round(self.mode, shape[0], shape[1], len(self.select_iters),
                                 self.ratio, self.pixels, self.radius_k, select_size)

    @torch.no_grad()
    def scores(self, uda, student, round_index):
        """Yield ``(index, H×W score at the original size)`` for every target image; the
        network scores ``score_batch`` images of equal input size per forward pass."""
        device = next(student.parameters()).device
        batch = []
        for idx in range(len(self.target.img_infos)):
            results = dict(img_info=self.target.img_infos[idx])
            self.target.pre_pipeline(results)
            data = self.pipeline(results)
            if batch and (len(batch) == self.score_batch
                          or batch[0][1].shape != data['img'].shape):
                yield from self.score_batch_of(uda, student, batch, device, round_index)
                batch = []
            batch.append((idx, data['img'], data['img_metas'].data))
        if batch:
            yield from self.score_batch_of(uda, student, batch, device, round_index)

    def score_batch_of(self, uda, student, batch, device, round_index):
        shapes = [tuple(meta['ori_shape'][:2]) for _, _, meta in batch]
        if self.selection == 'random':
            for (idx, _, _), shape in zip(batch, shapes):
                generator = torch.Generator().manual_seed(
                    (self.seed * 1_000_003 + round_index * 10_007 + idx) % 2**63)
                yield idx, torch.rand(shape, generator=generator, dtype=torch.float64)
            return
        img = torch.stack([img for _, img, _ in batch]).to(device)
        with uda.autocast():
            logits = student.encode_decode(img, [meta for _, _, meta in batch])
        for i, ((idx, _, _), shape) in enumerate(zip(batch, shapes)):
            # SPEC §3.2 step 1: bilinear, align_corners=True, to the original size.
            up = F.interpolate(logits[i:i + 1].float(), size=shape, mode='bilinear',
                               align_corners=True)
            if self.mode == 'RA':
                yield idx, region_scores(up, self.radius_k, self.norm_classes)[0]
            else:
                yield idx, pixel_scores(up, self.radius_k)

    def stop_for_annotation(self, runner, round_index):
        """Save a checkpoint of this iteration and stop: the run continues (--auto-resume)
        once the requested labels are ingested."""
        for hook in runner.hooks:
            if isinstance(hook, ResumableCheckpointHook):
                hook.save(runner)
        raise SystemExit(self.annotation_message(runner, round_index))

    @staticmethod
    def annotation_message(runner, round_index):
        return (f'Active labels: round {round_index} requests human labels. Export the '
                f'request with `python tools/active_request.py {runner.work_dir}`, annotate, '
                f'ingest with `python tools/active_ingest.py {runner.work_dir} LABEL_DIR`, '
                'then continue with tools/train.py --auto-resume')


def build_active_selection_hook(cfg, dataset):
    """The hook of ``cfg.active_selection`` for the UDA train set ``dataset``."""
    settings = copy.deepcopy(dict(cfg.active_selection))
    if settings.get('store_dir') is None:
        raise KeyError('active_selection.store_dir is not set (tools/train.py sets it to '
                       '<work_dir>/active_labels via configure_active_labels)')
    target = getattr(dataset, 'target', None)
    if target is None:
        raise ValueError('active_selection needs a UDADataset train set with a target')
    settings.setdefault('seed', cfg.get('seed') or 0)
    return ActiveSelectionHook(target, **settings)

