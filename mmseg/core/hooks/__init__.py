from .checkpoint_hook import (ResumableCheckpointHook, checkpoint_content, checkpoint_folder,
                              numbered_checkpoints)

__all__ = ['ResumableCheckpointHook', 'checkpoint_content', 'checkpoint_folder',
           'numbered_checkpoints']
