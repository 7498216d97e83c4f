"""Export the regions of a RIPU run's last selection round as an annotation request.

    python tools/active_request.py RUN_DIR [--out DIR] [--zoom 2] [--first N]

Writes, per image of the round, ``<key>_image.png`` (the target image), ``<key>_mask.png``
(255 = label this pixel) and ``<key>_overlay.png`` (the regions tinted magenta), plus
``request.json`` (round, class ids and names, what to return), to
``RUN_DIR/active_request/round_<r>/``. Annotate one ``<key>.png`` per image (class ids,
255 unknown), then ``python tools/active_ingest.py RUN_DIR LABEL_DIR`` and resume the run
(``tools/train.py CONFIG --work-dir RUN_DIR --auto-resume``).
"""
import argparse

from mmseg.apis.active_annotation import export_request


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Export the annotation request of the last '
                                     'active selection round')
    parser.add_argument('run_dir', help='the run folder (tools/train.py --work-dir)')
    parser.add_argument('--out', help='output folder (default: '
                        'RUN_DIR/active_request/round_<r>)')
    parser.add_argument('--zoom', type=int, default=1,
                        help='integer upscaling of the overlays (default 1)')
    parser.add_argument('--first', type=int,
                        help='export only the first N images (a preview, e.g. for a figure)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        out_dir, count = export_request(args.run_dir, args.out, args.zoom, args.first)
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(f'active_request.py: {error}')
    print(f'{count} image(s) to annotate: {out_dir}')


if __name__ == '__main__':
    main()
