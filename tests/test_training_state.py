"""What a checkpoint holds besides the weights (``mmseg.core.training_state``,
``rng_state``, ``resumable_sampler``), and a small runner that, interrupted and resumed,
draws and computes exactly what the straight run does."""
import importlib.util
import io
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmcv import Config
from mmcv.runner import Hook, IterBasedRunner, iter_based_runner
from mmcv.utils import get_logger
from torch.utils.data import DistributedSampler

from mmseg.apis.resume import apply_start_checkpoint, select_start_checkpoint
from mmseg.apis.train import build_checkpoint_hook, build_train_loaders
from mmseg.core.resumable_sampler import ResumableSampler
from mmseg.core.rng_state import capture_rng_state, restore_rng_state
from mmseg.core.training_state import (capture_training_state, extra_optimizers,
                                       restore_training_state)
from mmseg.models.utils.precision import MixedPrecision


def draws():
    return (random.random(), np.random.rand(), np.random.randn(), torch.rand(2))


def weights_only_roundtrip(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_rng_state_roundtrip_through_a_weights_only_file():
    np.random.randn()  # leaves a cached gaussian in numpy's state
    state = weights_only_roundtrip(capture_rng_state())
    expected = draws()
    restore_rng_state(state)
    again = draws()
    assert expected[:3] == again[:3] and torch.equal(expected[3], again[3])


def test_sampler_continues_mid_epoch_and_across_epochs():
    straight = ResumableSampler(10, seed=3)
    orders = [list(straight) for _ in range(3)]
    assert all(sorted(o) == list(range(10)) for o in orders) and orders[0] != orders[1]
    resumed = ResumableSampler(10, seed=3)
    resumed.set_position(1, 4)
    assert list(resumed) == orders[1][4:] and list(resumed) == orders[2]


def test_sampler_shares_match_distributed_sampler():
    for rank in range(3):
        ours = ResumableSampler(10, seed=5, rank=rank, world_size=3)
        ours.set_position(2)
        theirs = DistributedSampler(list(range(10)), num_replicas=3, rank=rank, seed=5)
        theirs.set_epoch(2)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_extra_optimizers_of_advseg_are_found():
    from mmseg.models.builder import UDA
    spec = importlib.util.spec_from_file_location(
        'tiny_cfgs', Path(__file__).parent / 'models' / 'tiny_cfgs.py')
    tiny_cfgs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tiny_cfgs)
    advseg = UDA.build(dict(type='AdvSeg', model=tiny_cfgs.tiny_daformer(), max_iters=10))
    assert list(extra_optimizers(nn.DataParallel(advseg))) == ['optimizer_D']


class ToyDataset:
    """Items whose 'augmentation' draws from numpy's and Python's global generators (like
    the data pipelines)."""

    CLASSES, PALETTE = ('a', ), None

    def __len__(self):
        return 10

    def __getitem__(self, idx):
        noise = np.random.rand() + random.random()
        return dict(x=torch.tensor([idx / 10 + noise / 10]))


class ToyModel(nn.Module):
    """Dropout (torch generator), a second optimizer kept as an attribute (like AdvSeg's
    discriminator) and a float16 GradScaler (like mixed precision)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 16), nn.Dropout(0.5), nn.Linear(16, 1))
        self.disc = nn.Linear(1, 1)
        self.optimizer_D = torch.optim.Adam(self.disc.parameters(), lr=0.01)
        self.precision = MixedPrecision(enabled=True, dtype='float16')
        self.local_iter = 0

    def train_step(self, data_batch, optimizer):
        optimizer.zero_grad()
        self.optimizer_D.zero_grad()
        x = data_batch['x']
        loss = (self.net(x) - x).pow(2).mean() + self.disc(x).pow(2).mean()
        self.precision.backward(loss)
        self.optimizer_D.step()
        self.precision.step(optimizer)
        self.local_iter += 1
        return dict(log_vars=dict(loss=loss.item()), num_samples=len(x))


class Interrupted(Exception):
    pass


def toy_run(work_dir, max_iters=8, stop_before=None, resume_from=None, workers=0):
    """Train the toy model (3 batches per epoch) with ``workers`` loader processes; returns
    the runner and its losses."""
    cfg = Config(dict(seed=0, gpu_ids=[0],
                      data=dict(samples_per_gpu=3, workers_per_gpu=workers),
                      resume_from=resume_from, work_dir=str(work_dir)))
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    model = ToyModel()
    loader = build_train_loaders([ToyDataset()], cfg)[0]
    runner = IterBasedRunner(model, optimizer=torch.optim.SGD(model.parameters(), lr=0.01,
                                                             momentum=0.9),
                             work_dir=str(work_dir), logger=get_logger('toy'), max_iters=max_iters)
    runner.register_hook(build_checkpoint_hook(dict(interval=1), loader), priority='LOWEST')
    losses = []
    runner.register_hook(LossRecorder(losses, stop_before))
    start = select_start_checkpoint(cfg)
    if start is not None:
        apply_start_checkpoint(runner, start, loader, runner.logger)
    try:
        runner.run([loader], [('train', 1)])
    except Interrupted:
        pass
    return runner, losses


class LossRecorder(Hook):
    """Records the losses; stops the run (like a kill) before 0-based ``stop_before``."""

    def __init__(self, losses, stop_before):
        self.losses, self.stop_before = losses, stop_before

    def before_train_iter(self, runner):
        if runner.iter == self.stop_before:
            raise Interrupted()

    def after_train_iter(self, runner):
        self.losses.append(runner.outputs['log_vars']['loss'])


def assert_same_weights(model_a, model_b):
    for a, b in zip(model_a.state_dict().values(), model_b.state_dict().values()):
        assert torch.equal(a, b)


@pytest.fixture
def no_epoch_pauses(monkeypatch):
    """mmcv sleeps at every epoch end (for loader workers); the toy runs need not wait."""
    monkeypatch.setattr(iter_based_runner, 'time', SimpleNamespace(sleep=lambda seconds: None))


@pytest.mark.parametrize('stop', [4, 6], ids=['mid-epoch', 'epoch-boundary'])
def test_resumed_toy_run_equals_straight_run(tmp_path, no_epoch_pauses, stop):
    straight, straight_losses = toy_run(tmp_path / 'straight')
    _, first = toy_run(tmp_path / 'resumed', stop_before=stop)
    resumed, second = toy_run(tmp_path / 'resumed',
                              resume_from=str(tmp_path / 'resumed' / f'iter_{stop}.pth'))
    assert first + second == straight_losses and len(straight_losses) == 8
    assert resumed.iter == 8 and resumed.model.local_iter == 8
    assert_same_weights(straight.model, resumed.model)
    assert straight.model.optimizer_D.state_dict()['state'][0]['step'] == \
        resumed.model.optimizer_D.state_dict()['state'][0]['step']
    assert straight.model.precision.state_dict() == resumed.model.precision.state_dict()


def test_loader_workers_draw_the_samples_of_the_main_process(tmp_path, no_epoch_pauses):
    """Each sample's augmentation follows its place in the data stream: no workers, two
    workers and two workers interrupted mid-epoch and resumed train identically."""
    without, losses = toy_run(tmp_path / 'w0')
    with_workers, worker_losses = toy_run(tmp_path / 'w2', workers=2)
    _, first = toy_run(tmp_path / 'resumed', stop_before=4, workers=2)
    resumed, second = toy_run(tmp_path / 'resumed', workers=2,
                              resume_from=str(tmp_path / 'resumed' / 'iter_4.pth'))
    assert worker_losses == losses and first + second == losses
    assert_same_weights(without.model, with_workers.model)
    assert_same_weights(without.model, resumed.model)


def test_training_state_restores_scaler_and_extra_optimizer():
    model = ToyModel()
    runner = SimpleNamespace(model=model)
    model.local_iter = 5
    model.precision.scaler.scale(torch.ones(()))  # creates the scale
    model.precision.scaler.update(new_scale=8.0)
    model.disc(torch.ones(1, 1)).sum().backward()
    model.optimizer_D.step()
    state = weights_only_roundtrip(capture_training_state(runner, 5))
    fresh = ToyModel()
    restore_training_state(SimpleNamespace(model=fresh), state, None, None)
    assert fresh.local_iter == 5
    assert fresh.precision.state_dict()['scale'] == 8.0
    assert torch.equal(fresh.optimizer_D.state_dict()['state'][0]['exp_avg'],
                       model.optimizer_D.state_dict()['state'][0]['exp_avg'])
    with pytest.raises(ValueError, match=r"missing \['optimizer_D'\]"):
        restore_training_state(SimpleNamespace(model=fresh), dict(state, extra_optimizers={}),
                               None, None, source='x.pth')
