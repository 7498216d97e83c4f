"""mmseg: DAFormer / HRDA / MIC unsupervised domain adaptation in the MMSegmentation 0.x style."""
__version__ = '0.16.0'
