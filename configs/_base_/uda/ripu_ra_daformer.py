# DAFormer self-training (dacs_a999_fdthings.py; + MIC / HRDA from the experiment) plus CE
# on the target pixels labelled by RIPU's region-based selection (RA 2.2%). Not from the
# RIPU paper: its L_cr and L_nl are off, DAFormer's losses stay as they are.
_base_ = ['dacs_a999_fdthings.py', '../active/ripu_ra.py']
uda = dict(type='RIPU', source_only=False, lambda_cr=0, lambda_nl=0)
