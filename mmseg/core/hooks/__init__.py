from .checkpoint_hook import ResumableCheckpointHook, checkpoint_folder, numbered_checkpoints

__all__ = ['ResumableCheckpointHook', 'checkpoint_folder', 'numbered_checkpoints']
