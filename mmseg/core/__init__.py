from .evaluation import *  # noqa: F401,F403
from .progress_bar_hook import ProgressBarHook  # noqa: F401
