from mmseg.models.builder import UDA
from mmseg.models.losses import LogitAdjustedCrossEntropyLoss
from mmseg.utils.label_shift_file import log_prior_ratio

from .uda_decorator import UDADecorator

# The parameters CR trains (``cr_trainable``), by name prefix / part in the student.
CR_TRAINABLE = {'decode_head': lambda name: name.startswith('decode_head.'),
                'conv_seg': lambda name: '.conv_seg.' in f'.{name}'}


@UDA.register_module()
class LabelShiftCR(UDADecorator):
    """Classifier Rectification (Liu et al., CVPR 2022; SPEC-more-uda.md §1.2 step 9): with
    the backbone frozen (no gradients, eval mode), the classifier ``cr_trainable``
    ('decode_head': the whole head, the official analogue of training the ASPP;
    'conv_seg': its last 1×1 conv) is trained on the source with
    CE(logits + log P_s − log P_t, y_s), the priors from ``label_shift=dict(file=...)``.
    Test with the plain argmax of the raw logits. Source data only.
    """

    def __init__(self, model, label_shift, cr_trainable='decode_head', max_iters=None,
                 train_cfg=None, test_cfg=None, init_cfg=None):
        super().__init__(model, max_iters, train_cfg, test_cfg, init_cfg)
        if not isinstance(label_shift, dict) or 'file' not in label_shift:
            raise ValueError("LabelShiftCR: uda.label_shift must be dict(file="
                             f"'label_shift.json'), got {label_shift!r}")
        if cr_trainable not in CR_TRAINABLE:
            raise ValueError(f'LabelShiftCR: uda.cr_trainable must be one of '
                             f'{sorted(CR_TRAINABLE)}, got {cr_trainable!r}')
        head = self.model.decode_head
        offset = [-b for b in log_prior_ratio(label_shift['file'], self.num_classes)]
        head.loss_decode = LogitAdjustedCrossEntropyLoss(
            offset, class_weight=head.loss_decode.class_weight,
            loss_weight=head.loss_decode.loss_weight)
        trainable = CR_TRAINABLE[cr_trainable]
        self.trained = [name for name, p in self.model.named_parameters() if trainable(name)]
        if not self.trained:
            raise ValueError(f"LabelShiftCR: the model has no '{cr_trainable}' parameters "
                             "(DeepLabV2's head has no conv_seg: use 'decode_head')")
        for name, param in self.model.named_parameters():
            param.requires_grad_(name in self.trained)
        # Modules with parameters, none trained (the backbone with its dropout and drop
        # path; with 'conv_seg' also the head's norms).
        self.frozen_modules = [m for m in self.model.modules()
                               if any(True for _ in m.parameters())
                               and not any(p.requires_grad for p in m.parameters())]

    def train(self, mode=True):
        """Frozen parts stay in eval mode (BatchNorm statistics, dropout, drop path)."""
        super().train(mode)
        for module in self.frozen_modules:
            module.eval()
        return self

    def forward_train(self, img, img_metas, gt_semantic_seg, target_img=None,
                      target_img_metas=None, **kwargs):
        log_vars, _ = self.train_source_ce(img, img_metas, gt_semantic_seg)
        self.local_iter += 1
        return log_vars
