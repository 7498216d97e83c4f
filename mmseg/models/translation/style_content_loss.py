"""ProCST's style-transfer loss: content, Gram style and total variation
(SPEC-more-uda.md §4.2 step 4; official ``core/style_transfer.py``)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .builder import TRANSLATION, build_translation


def gram(features):
    """Gram matrices normalised by the number of positions.

    Shapes: features N×C×H×W -> N×C×C, ``G[n] = F_n F_n^T / (H W)`` with F_n C×HW.
    """
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / (h * w)


def tv_loss(image):
    """Anisotropic total variation: mean |horizontal difference| + mean |vertical
    difference|. Shapes: N×C×H×W -> scalar."""
    return (image[..., :, 1:] - image[..., :, :-1]).abs().mean() + \
        (image[..., 1:, :] - image[..., :-1, :]).abs().mean()


@TRANSLATION.register_module()
class StyleContentLoss(nn.Module):
    """``content_weight * content + style_weight * style + tv_weight * TV`` where content is
    the mean over ``content_layers`` of MSE(features(fake), features(fake's input)) and
    style the mean over ``style_layers`` of MSE(gram(features(fake)), gram(features(image
    of the other domain))).

    Args:
        feature_extractor (dict): config of a module image -> {layer name: features}
            (``VGG16Features``, or ``RandomConvFeatures`` without downloads).
        content_layers, style_layers (list[str]): layer names.
        content_weight, style_weight, tv_weight (float): official 1/30, 1, 1/30; 0 skips
            a term.
    """

    def __init__(self, feature_extractor, content_layers=('relu3_3',),
                 style_layers=('relu1_2', 'relu2_2', 'relu3_3', 'relu4_3'),
                 content_weight=1 / 30, style_weight=1.0, tv_weight=1 / 30):
        super().__init__()
        self.features = build_translation(feature_extractor)
        self.content_layers = list(content_layers)
        self.style_layers = list(style_layers)
        self.content_weight, self.style_weight = content_weight, style_weight
        self.tv_weight = tv_weight

    def forward(self, fake, content_image, style_image):
        """fake, content_image, style_image: N×3×H×W in [-1, 1] -> dict of scalars
        (``loss_content``, ``loss_style``, ``loss_tv``, weighted sum ``loss``)."""
        zero = fake.new_zeros(())
        fake_features = self.features(fake)
        losses = {}
        if self.content_weight:
            with torch.no_grad():
                reference = self.features(content_image)
            losses['loss_content'] = sum(F.mse_loss(fake_features[k], reference[k])
                                         for k in self.content_layers) / len(self.content_layers)
        if self.style_weight:
            with torch.no_grad():
                reference = self.features(style_image)
            losses['loss_style'] = sum(F.mse_loss(gram(fake_features[k]), gram(reference[k]))
                                       for k in self.style_layers) / len(self.style_layers)
        if self.tv_weight:
            losses['loss_tv'] = tv_loss(fake)
        losses['loss'] = self.content_weight * losses.get('loss_content', zero) + \
            self.style_weight * losses.get('loss_style', zero) + \
            self.tv_weight * losses.get('loss_tv', zero)
        return losses
