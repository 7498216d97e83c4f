"""Prepare a checkpoint for release: keep ``state_dict`` and ``meta`` only (the optimizer
and the resume state ``training_state`` are dropped), and append the first 8 hex digits of the file's sha256 to its name.

    python tools/publish_model.py work_dirs/run/latest.pth release/daformer.pth
    # -> release/daformer-<sha256[:8]>.pth
"""
import argparse
import hashlib
import os
import os.path as osp

import torch

from mmseg.utils.checkpoint import load_weights_file


def sha256_of(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def process_checkpoint(in_file, out_file, trusted=False):
    """Write the stripped checkpoint; returns the final path (with the hash suffix)."""
    checkpoint = load_weights_file(in_file, 'checkpoint', trusted=trusted)
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{in_file!r} is not a checkpoint dict')
    if 'state_dict' in checkpoint:
        published = {'state_dict': checkpoint['state_dict']}
        if 'meta' in checkpoint:
            published['meta'] = checkpoint['meta']
    else:  # a bare state dict
        published = {'state_dict': checkpoint}
    stem = out_file[:-len('.pth')] if out_file.endswith('.pth') else out_file
    if osp.dirname(out_file):
        os.makedirs(osp.dirname(out_file), exist_ok=True)
    tmp_file = f'{stem}.tmp.pth'
    torch.save(published, tmp_file)
    final_file = f'{stem}-{sha256_of(tmp_file)[:8]}.pth'
    os.replace(tmp_file, final_file)
    return final_file


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Process a checkpoint to be published')
    parser.add_argument('in_file', help='input checkpoint filename')
    parser.add_argument('out_file', help='output checkpoint filename (hash gets appended)')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow checkpoints holding arbitrary Python objects')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    final_file = process_checkpoint(args.in_file, args.out_file, args.trust_checkpoint)
    print(final_file)
    return final_file


if __name__ == '__main__':
    main()
