"""The UDA modules built from the paper configs save the original checkpoint layout."""
import json

import pytest
from mmcv import Config

from mmseg.models import build_train_model
from test_model_keys import assert_same_layout, decode_tuples, expected_layout, layout

CASES = {
    'uda_daformer_gta2cs': 'daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py',
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_uda_checkpoint_layout(fixtures_dir, name):
    configs = json.loads((fixtures_dir / 'experiments' / 'base_configs.json').read_text())
    cfg = Config(decode_tuples(configs[CASES[name]]))
    cfg.model.pretrained = None
    model = build_train_model(cfg, train_cfg=dict(work_dir=None))
    assert_same_layout(layout(model), expected_layout(fixtures_dir, name))
