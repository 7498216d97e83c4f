"""The random number generators' states (Python, numpy, torch CPU and CUDA) as plain
values and tensors, so that a weights-only checkpoint can hold them."""
import random
import warnings

import numpy as np
import torch
import torch.distributed as dist


def capture_rng_state():
    """This process's generator states → dict of tensors / numbers."""
    version, mt_state, gauss_next = random.getstate()
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    state = dict(
        python=dict(version=version, state=torch.tensor(mt_state, dtype=torch.int64),
                    gauss_next=gauss_next),
        numpy=dict(name=name, keys=torch.from_numpy(keys.astype(np.int64)), pos=int(pos),
                   has_gauss=int(has_gauss), cached_gaussian=float(cached_gaussian)),
        torch=torch.get_rng_state(),
        cuda=[])
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state):
    """Inverse of :func:`capture_rng_state`."""
    py = state['python']
    random.setstate((py['version'], tuple(int(v) for v in py['state'].tolist()),
                     py['gauss_next']))
    nps = state['numpy']
    np.random.set_state((nps['name'], nps['keys'].numpy().astype(np.uint32), nps['pos'],
                         nps['has_gauss'], nps['cached_gaussian']))
    torch.set_rng_state(state['torch'])
    cuda = state.get('cuda') or []
    if cuda and torch.cuda.is_available():
        if len(cuda) != torch.cuda.device_count():
            warnings.warn(f'The checkpoint holds CUDA generator states of {len(cuda)} '
                          f'devices, this process sees {torch.cuda.device_count()}: they '
                          'are restored on the common devices only.')
        for device, device_state in enumerate(cuda[:torch.cuda.device_count()]):
            torch.cuda.set_rng_state(device_state, device)


def capture_rng_states_of_all_ranks():
    """One :func:`capture_rng_state` per process (all ranks take part when distributed),
    indexed by rank."""
    state = capture_rng_state()
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return [state]
    states = [None] * dist.get_world_size()
    dist.all_gather_object(states, _to_cpu(state))
    return states


def restore_rng_state_of_this_rank(states):
    """Restore the entry of this process's rank from :func:`capture_rng_states_of_all_ranks`
    (rank 0's, with a warning, when the number of processes changed)."""
    rank, world_size = 0, 1
    if dist.is_available() and dist.is_initialized():
        rank, world_size = dist.get_rank(), dist.get_world_size()
    if len(states) != world_size:
        warnings.warn(f'The checkpoint holds the generator states of {len(states)} '
                      f'process(es), this run has {world_size}: every process restores '
                      "rank 0's, so random draws will not continue exactly.")
        rank = 0
    restore_rng_state(states[rank])


def _to_cpu(state):
    return dict(state, torch=state['torch'].cpu(), cuda=[s.cpu() for s in state['cuda']])
