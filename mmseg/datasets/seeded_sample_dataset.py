"""A training dataset whose every sample draws its randomness from its own seed."""
from mmseg.utils.seeded_rngs import seeded_global_rngs


class SeededSampleDataset:
    """``dataset`` indexed by ``(index, entropy)`` keys: item ``(i, entropy)`` is
    ``dataset[i]`` computed with the global generators (``random``, numpy, torch CPU)
    seeded from ``entropy`` and restored afterwards (:func:`seeded_global_rngs`).

    The augmentations and Rare Class Sampling draws of a sample then depend on its key
    only: the same whichever loader worker (or the main process, ``workers_per_gpu=0``)
    computes it, and the same again in a resumed run. A
    :class:`~mmseg.core.resumable_sampler.ResumableSampler` with ``sample_seeds=True``
    yields such keys.

    Args:
        dataset (Dataset): the dataset, indexed by int.
    """

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, key):
        index, entropy = key
        with seeded_global_rngs(entropy):
            return self.dataset[index]
