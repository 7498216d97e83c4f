from .inference import (LoadImage, build_test_segmentor, inference_segmentor, init_segmentor,
                        load_config, load_segmentor_checkpoint, show_result_pyplot,
                        update_legacy_cfg)
from .test import multi_gpu_test, show_predictions, single_gpu_test
from .train import init_random_seed, set_random_seed, train_segmentor

__all__ = ['LoadImage', 'build_test_segmentor', 'inference_segmentor', 'init_segmentor',
           'load_config', 'load_segmentor_checkpoint', 'show_result_pyplot',
           'update_legacy_cfg', 'multi_gpu_test', 'show_predictions', 'single_gpu_test',
           'init_random_seed', 'set_random_seed', 'train_segmentor']
