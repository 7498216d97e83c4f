from .checkpoint_hook import ResumableCheckpointHook, checkpoint_folder

__all__ = ['ResumableCheckpointHook', 'checkpoint_folder']
