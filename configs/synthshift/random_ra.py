# SynthShift: the random-region baseline of synthshift/ripu_ra.py — the same budget (2.2%
# in 3x3 regions, 5 rounds, the same suppression), regions at uniformly random scores.
_base_ = ['ripu_ra.py']
active_selection = dict(selection='random')
