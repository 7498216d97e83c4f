"""Segment one image and draw the prediction over it.

    python demo/image_demo.py IMG CONFIG CHECKPOINT [--device cpu] [--palette cityscapes]
        [--opacity 0.5] [--out-file out.png]

With ``--out-file`` the overlay is written as a PNG with a legend (colour and name of the
classes in the prediction); without it the result is shown with matplotlib.
"""
import argparse

import mmcv
import numpy as np

from mmseg.apis import inference_segmentor, init_segmentor, show_result_pyplot
from mmseg.core.evaluation import get_classes, get_palette
from mmseg.utils.visualization import add_legend


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('img', help='image file')
    parser.add_argument('config', help='config file (.py, or legacy .json)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--device', default='cuda:0', help="e.g. 'cuda:0' or 'cpu'")
    parser.add_argument('--palette', default=None,
                        help="dataset palette, e.g. 'cityscapes' (default: the "
                             "checkpoint's)")
    parser.add_argument('--opacity', type=float, default=0.5,
                        help='opacity of the painted prediction, in (0, 1]')
    parser.add_argument('--out-file', default=None, help='write the overlay PNG here')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow checkpoints holding arbitrary Python objects')
    args = parser.parse_args(argv)
    if not 0 < args.opacity <= 1:
        parser.error(f'--opacity must be in (0, 1], got {args.opacity}')
    return args


def main(argv=None):
    args = parse_args(argv)
    device = args.device
    if device.startswith('cuda'):
        import torch
        if not torch.cuda.is_available():
            print('CUDA is not available: running on the CPU')
            device = 'cpu'
    model = init_segmentor(args.config, args.checkpoint, device=device,
                           trusted=args.trust_checkpoint)
    if args.palette is not None:
        classes, palette = get_classes(args.palette), get_palette(args.palette)
    else:
        classes, palette = model.CLASSES, model.PALETTE
    result = inference_segmentor(model, args.img)
    if args.out_file is None:
        show_result_pyplot(model, args.img, result, palette, opacity=args.opacity)
        return None
    drawn = model.show_result(args.img, result, palette=palette, show=False,
                              opacity=args.opacity)
    present = [c for c in np.unique(result[0]) if c < len(classes)]
    drawn = add_legend(drawn, classes, palette, class_ids=present)
    mmcv.imwrite(drawn, args.out_file)
    print(f'overlay written to {args.out_file}')
    return drawn


if __name__ == '__main__':
    main()
