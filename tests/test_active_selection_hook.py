"""The selection schedule and the config switch of active domain adaptation."""
import pytest
from mmcv import Config

from mmseg.apis.active_selection_hook import configure_active_labels, scaled_iterations

OFFICIAL = [10000, 12000, 14000, 16000, 18000]


def test_rounds_rescaled_to_max_iters():
    assert scaled_iterations(OFFICIAL, 40000, 40000) == OFFICIAL
    assert scaled_iterations(OFFICIAL, 40000, 300) == [75, 90, 105, 120, 135]
    assert scaled_iterations(OFFICIAL, 40000, 2) == [1, 1, 1, 1, 1]  # all after iteration 1
    assert scaled_iterations([3, 5], None, 2) == [3, 5]


def test_target_pipeline_reads_the_store_instead_of_the_ground_truth(tmp_path):
    cfg = Config.fromfile('configs/synthshift/ripu_ra.py')
    cfg.work_dir = str(tmp_path / 'run')
    configure_active_labels(cfg)
    store = str(tmp_path / 'run' / 'active_labels')
    assert cfg.active_selection.store_dir == store
    steps = [t['type'] for t in cfg.data.train.target.pipeline]
    assert 'LoadAnnotations' not in steps
    assert cfg.data.train.target.pipeline[1] == dict(type='LoadActiveAnnotations',
                                                     store_dir=store)
    assert cfg.data.train.source.pipeline[1]['type'] == 'LoadAnnotations'


def test_target_pipeline_without_annotations_is_refused(tmp_path):
    cfg = Config.fromfile('configs/synthshift/ripu_ra.py')
    cfg.work_dir = str(tmp_path)
    cfg.data.train.target.pipeline = [t for t in cfg.data.train.target.pipeline
                                      if t['type'] != 'LoadAnnotations']
    with pytest.raises(ValueError, match='must have one LoadAnnotations'):
        configure_active_labels(cfg)
