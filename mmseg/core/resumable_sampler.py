"""A training sampler whose order depends only on (seed, epoch), so that a resumed run can
continue in the middle of an epoch with exactly the samples a straight run would draw."""
import math

import torch
from torch.utils.data import Sampler

# Indices are handed out in chunks: a UDA dataset has len(source) * len(target) items
# (tens of millions), too many for one Python list.
CHUNK = 4096


class ResumableSampler(Sampler):
    """Shuffled (or sequential) indices, epoch after epoch, from a given position.

    Epoch ``e`` is ``randperm(dataset_size)`` drawn from a generator seeded with
    ``seed + e``; when distributed, it is padded to a multiple of ``world_size`` and every
    ``world_size``-th index from ``rank`` on is this process's share (the order of torch's
    ``DistributedSampler``). Each ``iter()`` yields the rest of the current epoch from
    ``offset`` and moves on to the next epoch. Nothing depends on the global generators.

    With ``sample_seeds`` it yields ``(index, (seed, rank, epoch, position))`` keys instead
    of indices (``position``: the sample's place in this process's share of the epoch) for
    a :class:`~mmseg.datasets.seeded_sample_dataset.SeededSampleDataset`, which seeds each
    sample's augmentations from its key: they then follow the sample's place in the data
    stream, whichever loader worker computes it, and differ between ranks.

    Args:
        dataset_size (int): number of items of the dataset.
        shuffle (bool): permute every epoch; otherwise 0, 1, 2, ...
        seed (int): base seed of the permutations.
        rank, world_size (int): this process and the number of processes.
        sample_seeds (bool): yield ``(index, seed key)`` pairs instead of indices.
    """

    def __init__(self, dataset_size, shuffle=True, seed=0, rank=0, world_size=1,
                 sample_seeds=False):
        if dataset_size <= 0:
            raise ValueError(f'ResumableSampler: the dataset is empty (size {dataset_size})')
        if not 0 <= rank < world_size:
            raise ValueError(f'ResumableSampler: rank {rank} outside world size {world_size}')
        self.dataset_size = dataset_size
        self.shuffle = shuffle
        self.seed = int(seed)
        self.rank = rank
        self.world_size = world_size
        self.sample_seeds = sample_seeds
        self.num_samples = math.ceil(dataset_size / world_size)
        self.epoch = 0
        self.offset = 0

    def __len__(self):
        """Samples of one whole epoch for this process."""
        return self.num_samples

    def epoch_order(self, epoch):
        """This process's indices of ``epoch`` (1-D int64 tensor of ``len(self)``)."""
        if self.shuffle:
            generator = torch.Generator()
            generator.manual_seed(self.seed + epoch)
            order = torch.randperm(self.dataset_size, generator=generator)
        else:
            order = torch.arange(self.dataset_size)
        total = self.num_samples * self.world_size
        if total > self.dataset_size:
            order = order.repeat(math.ceil(total / self.dataset_size))[:total]
        return order[self.rank:total:self.world_size]

    def set_position(self, epoch, offset=0):
        """Start the next ``iter()`` at sample ``offset`` of ``epoch``."""
        if epoch < 0 or not 0 <= offset <= self.num_samples:
            raise ValueError(f'ResumableSampler: position epoch={epoch}, offset={offset} '
                             f'outside an epoch of {self.num_samples} samples')
        self.epoch, self.offset = int(epoch), int(offset)

    def __iter__(self):
        epoch, offset = self.epoch, self.offset
        self.epoch, self.offset = epoch + 1, 0
        order = self.epoch_order(epoch)[offset:]
        indices = (i for chunk in order.split(CHUNK) for i in chunk.tolist())
        if not self.sample_seeds:
            return indices
        # SeedSequence takes non-negative integers only.
        seed = self.seed % 2**64
        return ((i, (seed, self.rank, epoch, position))
                for position, i in enumerate(indices, offset))
