"""Global random generators seeded for one block of code and put back afterwards, so that
what the block draws depends on its seed only, not on the process that runs it."""
import contextlib
import random

import numpy as np
import torch


def _int64(high, low):
    return int(high) << 32 | int(low)


@contextlib.contextmanager
def seeded_global_rngs(entropy):
    """Run the block with Python's ``random``, numpy's global generator and torch's CPU
    generator seeded from ``entropy``, then restore their previous states.

    Args:
        entropy (tuple[int]): non-negative integers, mixed by ``numpy.random.SeedSequence``
            into one 64-bit seed per generator (nearby tuples give unrelated streams).
    """
    saved = random.getstate(), np.random.get_state(), torch.get_rng_state()
    words = np.random.SeedSequence(entropy).generate_state(6)
    np.random.seed(words[:2])
    random.seed(_int64(*words[2:4]))
    # The CPU generator only: torch.manual_seed would also reseed the CUDA generators of a
    # process that trains on the GPU.
    torch.default_generator.manual_seed(_int64(*words[4:6]))
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        torch.set_rng_state(saved[2])
