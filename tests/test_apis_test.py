"""``single_gpu_test``: per-image pre_eval results in dataset order, coloured predictions
written to ``out_dir``, raw predictions without pre_eval."""
import functools

import mmcv
import numpy as np
import torch
from mmcv.parallel import DataContainer, MMDataParallel, collate
from torch.utils.data import DataLoader, Dataset

from mmseg.apis import single_gpu_test
from mmseg.models.segmentors.base import BaseSegmentor

PALETTE = [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
NORM = dict(mean=[0.0, 0.0, 0.0], std=[1.0, 1.0, 1.0], to_rgb=True)


class FakeSegmentor(BaseSegmentor):
    """Predicts class ``i % 3`` everywhere for the image whose pixels all equal ``i``."""

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.CLASSES = ('a', 'b', 'c')
        self.PALETTE = PALETTE

    def extract_feat(self, imgs):
        return imgs

    def encode_decode(self, img, img_metas):
        return img

    def forward_train(self, imgs, img_metas, **kwargs):
        return {}

    def simple_test(self, img, img_meta, rescale=True):
        return [np.full(m['ori_shape'][:2], int(x[0, 0, 0]) % 3, np.int64)
                for x, m in zip(img, img_meta)]

    def aug_test(self, imgs, img_metas, rescale=True):
        return self.simple_test(imgs[0], img_metas[0])


class FakeDataset(Dataset):
    PALETTE = PALETTE

    def __init__(self, n=5):
        self.n = n
        self.pre_eval_calls = []

    def __len__(self):
        return self.n

    def __getitem__(self, idx):
        meta = dict(img_shape=(6, 10, 3), ori_shape=(6, 10, 3), pad_shape=(6, 10, 3),
                    ori_filename=f'city/img{idx}.png', img_norm_cfg=NORM, flip=False)
        return dict(img=[torch.full((3, 6, 10), float(idx))],
                    img_metas=[DataContainer(meta, cpu_only=True)])

    def pre_eval(self, preds, indices):
        self.pre_eval_calls.append(list(indices))
        return [(int(i), int(p[0, 0])) for p, i in zip(preds, indices)]


def make_loader(dataset, batch_size):
    return DataLoader(dataset, batch_size=batch_size, shuffle=False,
                      collate_fn=functools.partial(collate, samples_per_gpu=batch_size))


def test_single_gpu_test_pre_eval_in_order(tmp_path):
    dataset = FakeDataset(5)
    model = MMDataParallel(FakeSegmentor(), device_ids=None)
    results = single_gpu_test(model, make_loader(dataset, 2), pre_eval=True)
    assert results == [(i, i % 3) for i in range(5)]
    assert dataset.pre_eval_calls == [[0, 1], [2, 3], [4]]
    assert not model.module.training


def test_single_gpu_test_writes_coloured_predictions(tmp_path):
    dataset = FakeDataset(3)
    model = MMDataParallel(FakeSegmentor(), device_ids=None)
    single_gpu_test(model, make_loader(dataset, 1), out_dir=str(tmp_path), opacity=1.0)
    for i in range(3):
        img = mmcv.imread(str(tmp_path / 'city' / f'img{i}.png'))
        assert img.shape == (6, 10, 3)
        assert (img == PALETTE[i % 3][::-1]).all()  # BGR on disk


def test_single_gpu_test_raw_predictions(tmp_path):
    dataset = FakeDataset(2)
    model = MMDataParallel(FakeSegmentor(), device_ids=None)
    results = single_gpu_test(model, make_loader(dataset, 1), pre_eval=False)
    assert len(results) == 2 and results[1].shape == (6, 10) and (results[1] == 1).all()
    assert dataset.pre_eval_calls == []


def _multi_gpu_worker(rank, world_size, init_file, out_file):
    import pickle

    import torch.distributed as dist
    from torch.utils.data import DistributedSampler

    from mmseg.apis import multi_gpu_test
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=world_size)
    try:
        dataset = FakeDataset(5)
        sampler = DistributedSampler(dataset, world_size, rank, shuffle=False)
        loader = DataLoader(dataset, batch_size=1, sampler=sampler,
                            collate_fn=functools.partial(collate, samples_per_gpu=1))
        model = MMDataParallel(FakeSegmentor(), device_ids=None)
        results = multi_gpu_test(model, loader, pre_eval=True)
        if rank == 0:
            with open(out_file, 'wb') as f:
                pickle.dump(results, f)
        else:
            assert results is None
    finally:
        dist.destroy_process_group()


def test_multi_gpu_test_gathers_in_dataset_order(tmp_path):
    import pickle

    import torch.multiprocessing as mp
    out_file = tmp_path / 'results.pkl'
    mp.spawn(_multi_gpu_worker, args=(2, str(tmp_path / 'init'), str(out_file)), nprocs=2)
    with open(out_file, 'rb') as f:
        results = pickle.load(f)
    # 5 images over 2 ranks: the sampler pads to 6; the padding is dropped.
    assert results == [(i, i % 3) for i in range(5)]
