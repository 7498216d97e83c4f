"""ProCST's label cycle loss through a frozen source-trained segmentor
(SPEC-more-uda.md §4.2 step 6a)."""
from .builder import TRANSLATION
from .frozen_module import FrozenModule
from .segmentor_io import build_config_segmentor, freeze, label_cross_entropy, segmentor_logits


@TRANSLATION.register_module()
class LabelCycleLoss(FrozenModule):
    """CE(Seg_S(S->T->S), y_s) with Seg_S frozen (eval mode, no gradients to its weights;
    the gradient flows into both generators).

    Args:
        config (str): training config of the source model (its ``model``, ``img_norm_cfg``).
        checkpoint (str): the source-only checkpoint.
    """

    def __init__(self, config, checkpoint):
        super().__init__()
        segmentor, self.img_norm_cfg = build_config_segmentor(
            config, checkpoint, 'LabelCycleLoss (label_losses.source_segmentor)')
        self.segmentor = freeze(segmentor)

    def forward(self, reconstructed_source, labels):
        """reconstructed_source N×3×H×W in [-1, 1], labels N×1×H×W -> scalar."""
        return label_cross_entropy(
            segmentor_logits(self.segmentor, reconstructed_source, self.img_norm_cfg), labels)
