"""Environment summary logged at the start of training."""
from mmcv.utils import collect_env as collect_base_env


def collect_env():
    """mmcv's environment summary (Python, CUDA, PyTorch, ...) plus the mmseg version."""
    import mmseg
    env_info = collect_base_env()
    env_info['MMSegmentation'] = mmseg.__version__
    return env_info


if __name__ == '__main__':
    for name, val in collect_env().items():
        print(f'{name}: {val}')
