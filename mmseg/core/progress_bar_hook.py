"""A one-line training progress bar for interactive runs (``custom_hooks``)."""
import os
import sys
import time

from mmcv.runner import HOOKS, Hook

# A file the hook rewrites with the current progress line after every iteration, for a
# parent process that shows it (run_experiments.py keeps the console to one line a run).
PROGRESS_FILE_ENV = 'MMSEG_PROGRESS_FILE'


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Redraws ``[#####     ] 120/200 it  0.9 s/it  ETA 1:12`` on stderr after every
    iteration. Silent when stderr is not a terminal (logs keep the logger's lines). When
    the environment names a file in ``MMSEG_PROGRESS_FILE``, the line is (also) written
    there.

    Args:
        width (int): bar width in characters.
    """

    def __init__(self, width=30, stream=None):
        self.width = width
        self.stream = stream or sys.stderr
        self.progress_file = os.environ.get(PROGRESS_FILE_ENV)
        self.start = None

    def enabled(self):
        return hasattr(self.stream, 'isatty') and self.stream.isatty()

    def before_run(self, runner):
        self.start = time.time()
        self.first_iter = runner.iter

    def after_train_iter(self, runner):
        line = self.line(runner.iter + 1, runner.max_iters)
        if self.progress_file:
            with open(self.progress_file, 'w') as f:
                f.write(line)
        if self.enabled():
            self.stream.write('\r' + line)
            if runner.iter + 1 == runner.max_iters:
                self.stream.write('\n')
            self.stream.flush()

    def line(self, done, total):
        elapsed = time.time() - self.start
        per_iter = elapsed / max(done - self.first_iter, 1)
        eta = int(per_iter * (total - done))
        filled = int(self.width * done / max(total, 1))
        return (f'[{"#" * filled}{" " * (self.width - filled)}] {done}/{total} it  '
                f'{per_iter:.2f} s/it  ETA {eta // 60}:{eta % 60:02d}')
