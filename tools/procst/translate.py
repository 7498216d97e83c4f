"""Translate source images with a trained ProCST translator ("Source in Target").

    python tools/procst/translate.py CHECKPOINT SRC_DIR OUT_DIR

Every image under SRC_DIR is translated at its full resolution into OUT_DIR under the
same relative file name; images already in OUT_DIR are skipped, so an interrupted run
continues where it stopped, and each image is written to a temporary file renamed into
place: no half-written image is left behind.
"""
import argparse

from mmseg.apis.translate_images import translate_folder


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Translate a source image folder (ProCST)')
    parser.add_argument('checkpoint', help='scale_<n>.pth or latest.pth of tools/procst/train.py')
    parser.add_argument('src_dir', help='source images (searched recursively)')
    parser.add_argument('out_dir', help='where the translated images go')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        done, skipped = translate_folder(args.checkpoint, args.src_dir, args.out_dir)
    except (FileNotFoundError, KeyError) as error:
        raise SystemExit(f'tools/procst/translate.py: {error}')
    print(f'translated {done} images into {args.out_dir} ({skipped} already there)')


if __name__ == '__main__':
    main()
