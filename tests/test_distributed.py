"""Two CPU ranks (gloo) under ``torchrun``: the UDA step averages the student's gradients,
so both ranks end with the same student and teacher weights."""
import os
import socket
import sys

import pytest
import torch

from test_e2e_supervised import REPO, run
from test_tools_train_uda import MIC, write_uda_config

DISTRIBUTED = """
dist_params = dict(backend='gloo')
custom_imports = dict(imports=['dist_weights_hook'], allow_failed_imports=False)
custom_hooks = [dict(type='DumpRankWeightsHook')]
"""


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.parametrize('extra', ['', MIC.format(mode='separatetrg')], ids=['dacs', 'mic'])
def test_two_ranks_agree_on_the_weights(tmp_path, monkeypatch, extra):
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join(
        [str(REPO / 'tests'), os.environ.get('PYTHONPATH', '')]))
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    config = write_uda_config(tmp_path, extra + DISTRIBUTED)
    work_dir = tmp_path / 'run'
    log = run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
               f'--master_port={free_port()}', 'tools/train.py', str(config), '--launcher',
               'pytorch', '--work-dir', str(work_dir)])
    assert 'mix.decode.loss_seg' in log
    ranks = [torch.load(work_dir / f'rank{r}.pth', map_location='cpu', weights_only=True)
             for r in range(2)]
    assert ranks[0].keys() == ranks[1].keys()
    for key in ranks[0]:
        if key.startswith(('model.', 'ema_model.', 'mic.')) and 'running' not in key \
                and 'num_batches' not in key:
            assert torch.equal(ranks[0][key], ranks[1][key]), key
    assert (work_dir / 'latest.pth').exists()  # rank 0 saved the checkpoint
