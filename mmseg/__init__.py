"""mmseg: DAFormer / HRDA / MIC unsupervised domain adaptation in the MMSegmentation 0.x style."""
import logging
import warnings

__version__ = '0.16.0'

# mmcv 1.x announces its 2.0 renaming on every import, and torch's extension loader warns
# about a missing CUDA toolkit on CPU-only machines; neither concerns this package.
warnings.filterwarnings('ignore', message='On January 1, 2023, MMCV will release v2.0.0')
logging.getLogger('torch.utils.cpp_extension').setLevel(logging.ERROR)
