"""Translating a source image folder with a trained ProCST translator ("Source in
Target", SPEC-more-uda.md §4.2 step 7): the full pyramid on the original-resolution
images, same file names, crash-safe and resumable (``tools/procst/translate.py``)."""
import os
import os.path as osp
import sys

import numpy as np
import torch

from mmseg.models.translation import build_translation
from mmseg.utils.checkpoint import load_weights_file, remove_temp_files, replaced_atomically
from mmseg.utils.image_statistics import IMAGE_SUFFIXES, image_files


def load_translator(checkpoint):
    """(translator in eval mode, its last trained level) from a ``scale_<n>.pth`` /
    ``latest.pth`` of ``tools/procst/train.py``."""
    state = load_weights_file(checkpoint, 'translator checkpoint')
    for key in ('translator', 'scale', 'meta'):
        if key not in state:
            raise KeyError(f'{checkpoint}: not a ProCST translator checkpoint (no {key!r}); '
                           'expected a scale_<n>.pth or latest.pth of tools/procst/train.py')
    translator = build_translation(dict(state['meta']['translator_cfg']))
    translator.load_state_dict(state['translator'])
    return translator.eval(), state['scale']


@torch.no_grad()
def translate_image(translator, image, scale=None, direction='st'):
    """HxWx3 uint8 RGB -> HxWx3 uint8 RGB through levels 0..``scale`` (the image is the
    last level; the coarser ones are its pyramid)."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
    x = x / 127.5 - 1
    out = translator.translate(translator.pyramid(x, scale), direction, scale)
    return ((out[0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()


def write_image_atomically(image_rgb, path):
    """Encode by ``path``'s suffix and write through a temporary file renamed over
    ``path``: a crash leaves no half-written image under the final name."""
    import cv2
    ok, encoded = cv2.imencode(osp.splitext(path)[1], image_rgb[..., ::-1])
    if not ok:
        raise ValueError(f'could not encode an image for {path}')
    with replaced_atomically(path) as tmp:
        with open(tmp, 'wb') as f:
            f.write(encoded.tobytes())
            f.flush()
            os.fsync(f.fileno())


def translate_folder(checkpoint, src_dir, out_dir, progress=True):
    """Translate every image of ``src_dir`` (recursively) into ``out_dir`` under the same
    relative name, skipping the ones already there; temporary files of an interrupted
    run are deleted first. Returns (translated, skipped) counts."""
    import mmcv
    if not osp.isdir(src_dir):
        raise FileNotFoundError(f'source image folder {src_dir} not found')
    translator, scale = load_translator(checkpoint)
    names = image_files(src_dir)
    if not names:
        raise FileNotFoundError(f'no images ({", ".join(IMAGE_SUFFIXES)}) in {src_dir}')
    for folder in {osp.dirname(osp.join(out_dir, n)) for n in names}:
        os.makedirs(folder, exist_ok=True)
        remove_temp_files(folder)
    todo = [n for n in names if not osp.isfile(osp.join(out_dir, n))]
    bar = mmcv.ProgressBar(len(todo), file=sys.stdout) if progress and todo else None
    for name in todo:
        image = mmcv.imread(osp.join(src_dir, name), channel_order='rgb')
        write_image_atomically(translate_image(translator, image, scale),
                               osp.join(out_dir, name))
        if bar is not None:
            bar.update()
    if bar is not None:
        sys.stdout.write('\n')
    return len(todo), len(names) - len(todo)
