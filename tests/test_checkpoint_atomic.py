"""Crash-safe checkpoint files (``mmseg.utils.checkpoint``) and the resumable checkpoint
hook (``mmseg.core.hooks.ResumableCheckpointHook``): atomic writes, ``latest.pth``,
``max_keep_ckpts``, weights-only loading, the trusted-file escape hatch."""
import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from mmseg.apis.resume import find_latest_checkpoint, read_training_checkpoint
from mmseg.core.hooks import ResumableCheckpointHook
from mmseg.utils.checkpoint import (CheckpointReadError, atomic_link_or_copy, atomic_save,
                                    remove_temp_files, to_weights_only)


class Unpicklable:
    def __reduce__(self):
        raise RuntimeError('boom while writing')


def test_failed_save_keeps_the_previous_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / 'iter_2.pth'
    atomic_save(dict(state_dict=dict(w=torch.ones(3))), path)
    with pytest.raises(RuntimeError, match='boom'):
        atomic_save(dict(state_dict=dict(w=torch.zeros(1000)), bad=Unpicklable()), path)
    assert torch.equal(torch.load(path, weights_only=True)['state_dict']['w'], torch.ones(3))
    assert sorted(os.listdir(tmp_path)) == ['iter_2.pth']


def test_latest_is_a_hard_link_or_a_copy(tmp_path, monkeypatch):
    src = tmp_path / 'iter_4.pth'
    atomic_save(dict(a=torch.arange(3)), src)
    atomic_link_or_copy(src, tmp_path / 'latest.pth')
    assert os.path.samefile(src, tmp_path / 'latest.pth')

    def no_links(*args):
        raise OSError('hard links not supported here')
    monkeypatch.setattr(os, 'link', no_links)
    atomic_link_or_copy(src, tmp_path / 'latest.pth')  # replaces the link by a copy
    assert not os.path.samefile(src, tmp_path / 'latest.pth')
    assert (tmp_path / 'latest.pth').read_bytes() == src.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ['iter_4.pth', 'latest.pth']


def test_remove_temp_files_only_touches_interrupted_saves(tmp_path):
    for name in ('.iter_4.pth.tmp-123', '.latest.pth.tmp-9', 'iter_2.pth', 'notes.tmp-1'):
        (tmp_path / name).write_bytes(b'x')
    removed = remove_temp_files(tmp_path)
    assert sorted(os.path.basename(p) for p in removed) == ['.iter_4.pth.tmp-123',
                                                            '.latest.pth.tmp-9']
    assert sorted(os.listdir(tmp_path)) == ['iter_2.pth', 'notes.tmp-1']


def test_to_weights_only_converts_numpy_and_names_other_objects():
    value = to_weights_only(dict(score=np.float64(0.5), ids=(np.int64(3), [np.zeros(2)])))
    assert type(value['score']) is float and value['ids'][0] == 3
    assert torch.equal(value['ids'][1][0], torch.zeros(2, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"meta\['hook_msgs'\]\[0\] holds a object"):
        to_weights_only(dict(hook_msgs=[object()]), 'meta')


def test_legacy_file_needs_trust(tmp_path):
    path = tmp_path / 'legacy.pth'
    torch.save(dict(meta=dict(iter=1, history=np.arange(3)), state_dict={}), path)
    with pytest.raises(RuntimeError, match='--trust-checkpoint'):
        read_training_checkpoint(str(path))
    assert read_training_checkpoint(str(path), trusted=True)['meta']['iter'] == 1


def test_weights_file_is_not_a_training_checkpoint(tmp_path):
    path = tmp_path / 'mit_b0.pth'
    torch.save(dict(w=torch.ones(1)), path)
    with pytest.raises(ValueError, match="not a training checkpoint.*'state_dict'"):
        read_training_checkpoint(str(path))
    torch.save(dict(state_dict=dict(w=torch.ones(1))), path)
    with pytest.raises(ValueError, match="no 'iter'.*--load-from"):
        read_training_checkpoint(str(path))
    assert read_training_checkpoint(str(path), resume=False)['state_dict']


def test_auto_resume_with_only_corrupt_files_is_an_error(tmp_path):
    (tmp_path / 'iter_2.pth').write_bytes(b'not a zip file')
    with pytest.raises(CheckpointReadError, match='no readable checkpoint'):
        find_latest_checkpoint(str(tmp_path))
    assert find_latest_checkpoint(str(tmp_path / 'empty')) is None


class FakeRunner(SimpleNamespace):
    """What the hook reads from mmcv's runner."""

    def __init__(self, work_dir):
        model = torch.nn.Linear(2, 2)
        super().__init__(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                         work_dir=str(work_dir), meta=dict(seed=0), epoch=0, iter=0,
                         _max_iters=7, logger=SimpleNamespace(info=print, warning=print))


def test_hook_keeps_newest_checkpoints_and_latest(tmp_path):
    (tmp_path / 'iter_9.pth').write_bytes(b'from an earlier, longer run')
    (tmp_path / '.iter_3.pth.tmp-77').write_bytes(b'interrupted')
    runner = FakeRunner(tmp_path)
    hook = ResumableCheckpointHook(interval=2, max_keep_ckpts=2,
                                   meta=dict(CLASSES=('road', 'sky')))
    hook.before_run(runner)
    assert not (tmp_path / '.iter_3.pth.tmp-77').exists()
    for runner.iter in range(runner._max_iters):
        hook.after_train_iter(runner)
    # Saved after 2, 4, 6 and the last (7) iterations; the two newest are kept.
    assert sorted(p.name for p in tmp_path.glob('iter_*.pth')) == [
        'iter_6.pth', 'iter_7.pth', 'iter_9.pth']
    latest = torch.load(tmp_path / 'latest.pth', weights_only=True)
    assert latest['meta']['iter'] == 7 and latest['meta']['CLASSES'] == ('road', 'sky')
    assert latest['training_state']['iter'] == 7
    assert set(latest) == {'meta', 'state_dict', 'optimizer', 'training_state'}
    assert runner.meta['hook_msgs']['last_ckpt'] == str(tmp_path / 'iter_7.pth')


def test_hook_refuses_epoch_based_and_remote_files():
    with pytest.raises(ValueError, match='by_epoch'):
        ResumableCheckpointHook(interval=1, by_epoch=True)
    with pytest.raises(ValueError, match='file_client_args'):
        ResumableCheckpointHook(interval=1, file_client_args=dict(backend='petrel'))
