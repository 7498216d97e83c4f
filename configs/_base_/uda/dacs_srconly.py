# Source-only baseline trained through the DACS wrapper (no target data used).
_base_ = ['dacs.py']
uda = dict(source_only=True)
