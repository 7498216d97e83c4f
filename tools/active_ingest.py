"""Ingest annotated label maps into a RIPU run's active label store (last round).

    python tools/active_ingest.py RUN_DIR LABEL_DIR

LABEL_DIR holds one ``<key>.png`` per requested image (the keys of
``tools/active_request.py``'s ``request.json``): single-channel class ids, 255 where
unknown. Only pixels inside the requested regions count; others are rejected and counted.
A file of the wrong size or with an unknown class id is rejected whole (reported by file
with counts) and the store keeps what it had. Exit status 1 when a file was rejected.
"""
import argparse
import sys

from mmseg.apis.active_annotation import format_report, ingest_labels


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Ingest human labels of the last active '
                                     'selection round')
    parser.add_argument('run_dir', help='the run folder (tools/train.py --work-dir)')
    parser.add_argument('label_dir', help='folder of <key>.png label maps')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        report = ingest_labels(args.run_dir, args.label_dir)
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(f'active_ingest.py: {error}')
    print(format_report(report))
    if report['rejected']:
        sys.exit(1)


if __name__ == '__main__':
    main()
