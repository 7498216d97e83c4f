"""Per-sample seeds of the training loader: a Rare Class Sampling item (class, source file,
crops, target sample) follows its ``(seed, rank, epoch, position)`` key, not the state of
the process that computes it, and leaves that state as it was."""
import random
from itertools import islice

import numpy as np
import torch

from mmseg.core.resumable_sampler import ResumableSampler
from mmseg.datasets import SeededSampleDataset, build_dataset
from test_uda_dataset import base_config, in_data_dir  # noqa: F401 (fixture)


def summary(item):
    """What the draws of an RCS item decide: the files and the cropped tensors."""
    return (item['img_metas'].data['ori_filename'],
            item['target_img_metas'].data['ori_filename'],
            item['img'].data, item['gt_semantic_seg'].data, item['target_img'].data)


def assert_same_items(a, b):
    for x, y in zip(summary(a), summary(b)):
        assert torch.equal(x, y) if isinstance(x, torch.Tensor) else x == y


def global_states():
    return random.getstate(), np.random.get_state()[1].tolist(), torch.get_rng_state()


def test_rcs_items_follow_their_key_and_leave_the_global_state(fixtures_dir, in_data_dir):
    dataset = SeededSampleDataset(build_dataset(base_config(fixtures_dir, 'gta')))
    sampler = ResumableSampler(len(dataset), seed=3, sample_seeds=True)
    keys = list(islice(iter(sampler), 4))
    assert [k[1] for k in keys] == [(3, 0, 0, p) for p in range(4)]

    np.random.seed(0)
    before = global_states()
    items = [dataset[k] for k in keys]
    after = global_states()
    assert after[:2] == before[:2] and torch.equal(after[2], before[2])

    np.random.seed(1)  # another process state, another order (another worker)
    random.seed(1)
    for key, item in reversed(list(zip(keys, items))):
        assert_same_items(dataset[key], item)

    resumed = ResumableSampler(len(dataset), seed=3, sample_seeds=True)
    resumed.set_position(0, 2)
    assert list(islice(iter(resumed), 2)) == keys[2:]
    other_rank = ResumableSampler(len(dataset), seed=3, rank=1, world_size=2,
                                  sample_seeds=True)
    assert next(iter(other_rank))[1] == (3, 1, 0, 0)
