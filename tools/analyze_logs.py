"""Plot training curves or compute the training time from ``<timestamp>.log.json`` files.

    python tools/analyze_logs.py plot_curve work_dirs/run/*.log.json --keys loss mIoU \
        --out curves.png
    python tools/analyze_logs.py cal_train_time work_dirs/run/*.log.json
"""
import argparse
import json
from collections import defaultdict

import numpy as np


def load_json_log(path):
    """Log entries by mode: ``{'train': [entry, ...], 'val': [...]}``; the first line
    (run meta: config, environment) has no ``mode`` and is skipped."""
    entries = defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            entry = json.loads(line)
            if 'mode' in entry:
                entries[entry['mode']].append(entry)
    return entries


def curve(entries, key):
    """``(iters, values)`` of ``key`` over the train and val entries that hold it."""
    points = sorted((e['iter'], e[key]) for mode in ('train', 'val') for e in entries[mode]
                    if key in e and isinstance(e[key], (int, float)))
    return [p[0] for p in points], [p[1] for p in points]


def plot_curve(logs, args):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    legends = args.legend or [f'{name}' for name in args.json_logs]
    if len(legends) != len(args.json_logs):
        raise ValueError(f'--legend needs {len(args.json_logs)} names, got {len(legends)}')
    fig, axes = plt.subplots(len(args.keys), 1, figsize=(8, 3 * len(args.keys)),
                             squeeze=False)
    for ax, key in zip(axes[:, 0], args.keys):
        plotted = False
        for entries, legend in zip(logs, legends):
            iters, values = curve(entries, key)
            if not iters:
                print(f'warning: no {key!r} in {legend}')
                continue
            ax.plot(iters, values, marker='o' if len(iters) < 20 else None, label=legend)
            plotted = True
        ax.set_xlabel('iter')
        ax.set_ylabel(key)
        if plotted:
            ax.legend()
        ax.grid(alpha=0.3)
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()
    if args.out:
        fig.savefig(args.out)
        print(f'saved {args.out}')
    else:
        plt.show()
    plt.close(fig)


def cal_train_time(logs, args):
    for path, entries in zip(args.json_logs, logs):
        times = np.array([e['time'] for e in entries['train'] if 'time' in e])
        if times.size == 0:
            print(f'{path}: no timed training entries')
            continue
        if not args.include_outliers and times.size > 1:
            times = times[1:]  # the first logged interval includes start-up
        print(f'{path}: average time per iteration {times.mean():.4f} s '
              f'(std {times.std():.4f}, slowest {times.max():.4f} s)')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Analyze JSON training logs')
    sub = parser.add_subparsers(dest='task', required=True)
    plot = sub.add_parser('plot_curve', help='plot curves of logged keys')
    plot.add_argument('json_logs', nargs='+', help='.log.json files')
    plot.add_argument('--keys', nargs='+', default=['mIoU'], help='keys to plot')
    plot.add_argument('--legend', nargs='+', help='one legend entry per log')
    plot.add_argument('--title', help='figure title')
    plot.add_argument('--out', help='write the figure here (PNG, PDF, ...)')
    timing = sub.add_parser('cal_train_time', help='average time per iteration')
    timing.add_argument('json_logs', nargs='+', help='.log.json files')
    timing.add_argument('--include-outliers', action='store_true',
                        help='include the first (start-up) interval')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    logs = [load_json_log(path) for path in args.json_logs]
    if args.task == 'plot_curve':
        plot_curve(logs, args)
    else:
        cal_train_time(logs, args)


if __name__ == '__main__':
    main()
