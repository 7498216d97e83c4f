# SynthShift: source-only baseline — the shared start trained further on the labelled
# source only (no target images), as long as the UDA methods adapt.
_base_ = ['base.py', '../_base_/uda/dacs_srconly.py']
