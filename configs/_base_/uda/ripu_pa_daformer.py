# DAFormer self-training plus CE on the target pixels labelled by RIPU's pixel-based
# selection (PA 40 px; not from the RIPU paper).
_base_ = ['dacs_a999_fdthings.py', '../active/ripu_pa.py']
uda = dict(type='RIPU', source_only=False, lambda_cr=0, lambda_nl=0)
