"""The UDA modules built from the paper configs save the original checkpoint layout."""
import json

import pytest
from mmcv import Config

from mmseg.models import build_train_model
from test_model_keys import assert_same_layout, decode_tuples, expected_layout, layout

BASE_CONFIG_CASES = {
    'uda_daformer_gta2cs': 'daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py',
    'uda_hrda_gtaHR2csHR': 'hrda/gtaHR2csHR_hrda.py',
    'uda_mic_hrda_gtaHR2csHR': 'mic/gtaHR2csHR_mic_hrda.py',
}
EXPERIMENT_CASES = {  # fixture → (experiment file, generated config name)
    'uda_mic_own_teacher_daformer_gta2cs': (
        'mic_exp83.json',
        'gta2cs_dacs_a999_fdthings_rcs001_cpl_m32-07-a0-spta_daformer_sepaspp_mitb5_poly10warm_s0'),
    'uda_dacs_srconly_mic_daformer_cs2cs': (
        'mic_exp85.json', 'cs2cs_dacs_srconly_m32-07-sps_daformer_sepaspp_mitb5_poly10warm_s0'),
}


def merged_config(fixtures_dir, name):
    experiments = fixtures_dir / 'experiments'
    if name in BASE_CONFIG_CASES:
        configs = json.loads((experiments / 'base_configs.json').read_text())
        return decode_tuples(configs[BASE_CONFIG_CASES[name]])
    file_name, config_name = EXPERIMENT_CASES[name]
    configs = json.loads((experiments / file_name).read_text())['configs']
    return next(decode_tuples(c['merged']) for c in configs
                if c['generated']['name'] == config_name)


@pytest.mark.parametrize('name', sorted(BASE_CONFIG_CASES) + sorted(EXPERIMENT_CASES))
def test_uda_checkpoint_layout(fixtures_dir, name):
    cfg = Config(merged_config(fixtures_dir, name))
    cfg.model.pretrained = None
    model = build_train_model(cfg, train_cfg=dict(work_dir=None))
    assert_same_layout(layout(model), expected_layout(fixtures_dir, name))


def test_hrda_segmentor_layout(fixtures_dir):
    from mmseg.models import build_segmentor
    cfg = Config(merged_config(fixtures_dir, 'uda_hrda_gtaHR2csHR'))
    cfg.model.pretrained = None
    model = build_segmentor(cfg.model)
    assert_same_layout(layout(model),
                       expected_layout(fixtures_dir, 'segmentor_hrda_daformer_sepaspp_mitb5'))
