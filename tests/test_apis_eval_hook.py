"""``EvalHook``: calls its ``test_fn`` every ``interval`` iterations and logs the metrics
as 'val' entries of the JSON log; ``save_best`` keeps the best checkpoint, crash-safe."""
import json
import logging
import os

import pytest
import torch
import torch.nn as nn
from mmcv.runner import IterBasedRunner
from torch.utils.data import DataLoader, Dataset

from mmseg.core.evaluation import EvalHook
from mmseg.utils import checkpoint as checkpoint_module


class ToyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.steps = 0

    def train_step(self, data_batch, optimizer, **kwargs):
        self.steps += 1
        loss = (self.w - 1).pow(2).sum()
        return dict(loss=loss, log_vars=dict(loss=loss.item()), num_samples=1)


class ToyDataset(Dataset):
    def __init__(self, length=4):
        self.length = length
        self.evaluated = []

    def __len__(self):
        return self.length

    def __getitem__(self, idx):
        return torch.tensor([float(idx)])

    def evaluate(self, results, metric='mIoU', logger=None, **kwargs):
        self.evaluated.append((list(results), metric, kwargs))
        return {'mIoU': sum(results) / len(results), 'aAcc': 0.75}


def run_toy(tmp_path, interval, max_iters=6, scores=None, **eval_kwargs):
    """``scores``: the mIoU of each evaluation (0.5 when not given)."""
    model = ToyModel()
    calls = []

    def test_fn(m, loader):
        calls.append((m.steps, len(loader)))
        score = scores[len(calls) - 1] if scores else 0.5
        return [score, score]

    val_dataset = ToyDataset()
    hook = EvalHook(DataLoader(val_dataset, batch_size=1), interval=interval, test_fn=test_fn,
                    **eval_kwargs)
    runner = IterBasedRunner(model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                             work_dir=str(tmp_path), logger=logging.getLogger('toy'),
                             max_iters=max_iters, meta=dict())
    runner.register_training_hooks(
        lr_config=None, optimizer_config=dict(grad_clip=None),
        log_config=dict(interval=1, hooks=[dict(type='TextLoggerHook', by_epoch=False)]))
    runner.register_hook(hook, priority='LOW')
    # Long enough never to end an epoch (mmcv's IterLoader sleeps 2 s at each epoch end).
    runner.run([DataLoader(ToyDataset(100), batch_size=2)], [('train', 1)])
    log = next(tmp_path.glob('*.log.json'))
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    return calls, val_dataset, entries


def test_eval_hook_calls_test_fn_at_interval(tmp_path):
    calls, val_dataset, entries = run_toy(tmp_path, interval=2, metric='mIoU')
    assert calls == [(2, 4), (4, 4), (6, 4)]
    assert [e[1] for e in val_dataset.evaluated] == ['mIoU'] * 3
    val = [e for e in entries if e.get('mode') == 'val']
    assert [e['iter'] for e in val] == [2, 4, 6]
    assert all(e['mIoU'] == 0.5 and e['aAcc'] == 0.75 for e in val)
    train = [e for e in entries if e.get('mode') == 'train']
    assert [e['iter'] for e in train] == [1, 2, 3, 4, 5, 6]  # training log not lost


def test_eval_hook_ignores_legacy_keys(tmp_path):
    with pytest.warns(UserWarning, match='efficient_test'):
        calls, val_dataset, _ = run_toy(tmp_path, interval=3, efficient_test=True,
                                        pre_eval=True, metric='mIoU')
    assert calls == [(3, 4), (6, 4)]
    assert val_dataset.evaluated[0][2] == {}  # nothing legacy reached dataset.evaluate


def test_eval_hook_requires_dataloader():
    with pytest.raises(TypeError, match='DataLoader'):
        EvalHook([1, 2, 3], interval=1, test_fn=lambda m, d: [])


def load(path):
    return torch.load(path, weights_only=True)


def test_save_best_keeps_one_resumable_best_checkpoint(tmp_path):
    run_toy(tmp_path, interval=2, scores=[0.5, 0.75, 0.6], save_best='mIoU')
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['best_mIoU_iter_4.pth']
    best = load(tmp_path / 'best_mIoU_iter_4.pth')
    assert set(best) == {'meta', 'state_dict', 'optimizer', 'training_state'}
    assert best['meta']['iter'] == best['training_state']['iter'] == 4
    assert best['meta']['hook_msgs']['best_score'] == 0.75
    assert best['meta']['hook_msgs']['best_ckpt'] == str(tmp_path / 'best_mIoU_iter_4.pth')


def test_crash_while_saving_a_new_best_keeps_the_previous_best(tmp_path, monkeypatch):
    real_save = torch.save

    def save_fails_the_second_time(obj, f, *args, **kwargs):
        saves.append(f)
        if len(saves) == 2:
            real_save(obj, f, *args, **kwargs)  # a partly written file, then the crash
            raise OSError('No space left on device')
        real_save(obj, f, *args, **kwargs)
    saves = []
    monkeypatch.setattr(checkpoint_module.torch, 'save', save_fails_the_second_time)
    with pytest.raises(OSError, match='No space left'):
        run_toy(tmp_path, interval=2, scores=[0.5, 0.75], save_best='mIoU')
    assert len(saves) == 2
    assert [p.name for p in tmp_path.glob('*.pth')] == ['best_mIoU_iter_2.pth']
    assert not [name for name in os.listdir(tmp_path) if '.tmp-' in name]
    best = load(tmp_path / 'best_mIoU_iter_2.pth')
    assert best['meta']['iter'] == 2 and 'w' in best['state_dict']
