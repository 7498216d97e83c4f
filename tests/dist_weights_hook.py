"""Test-only hook (loaded through ``custom_imports``): every rank writes its final
weights to ``<work_dir>/rank<r>.pth`` so a test can compare the ranks."""
import os.path as osp

import torch
from mmcv.runner import HOOKS, Hook, get_dist_info


@HOOKS.register_module()
class DumpRankWeightsHook(Hook):

    def after_run(self, runner):
        rank, _ = get_dist_info()
        model = getattr(runner.model, 'module', runner.model)
        torch.save(model.state_dict(), osp.join(runner.work_dir, f'rank{rank}.pth'))
