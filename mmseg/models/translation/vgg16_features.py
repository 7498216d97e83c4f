"""ImageNet VGG16 activations for ProCST's style/content loss (SPEC-more-uda.md §4.2 step 4)."""
import os.path as osp

from mmseg.utils.checkpoint import load_weights_file

from .builder import TRANSLATION
from .frozen_module import FrozenModule

# Indices of the ReLU outputs in torchvision's ``vgg16().features``.
VGG16_RELU_INDICES = {'relu1_2': 3, 'relu2_2': 8, 'relu3_3': 15, 'relu4_3': 22}


@TRANSLATION.register_module()
class VGG16Features(FrozenModule):
    """torchvision's VGG16 ``features`` up to the deepest requested ReLU, frozen, fed
    [-1, 1] images without ImageNet mean/std (as the official code does).

    Args:
        weights (str): torchvision's ``vgg16`` state dict (``features.*`` keys); it cannot
            be downloaded here, so it must be on disk.
        layers (list[str]): names from ``VGG16_RELU_INDICES``.
    Shapes: image N×3×H×W -> {name: N×C_l×H/2^k×W/2^k}.
    """

    def __init__(self, weights='pretrained/vgg16.pth',
                 layers=('relu1_2', 'relu2_2', 'relu3_3', 'relu4_3')):
        super().__init__()
        import torchvision
        unknown = sorted(set(layers) - set(VGG16_RELU_INDICES))
        if unknown:
            raise ValueError(f'VGG16Features: unknown layers {unknown}; expected some of '
                             f'{sorted(VGG16_RELU_INDICES)}')
        if not osp.isfile(weights):
            raise FileNotFoundError(
                f'VGG16Features: the ImageNet VGG16 weights are expected at {weights} '
                "(torchvision's vgg16 state dict, e.g. torch.save(torchvision.models.vgg16("
                "weights='IMAGENET1K_V1').state_dict(), '" + weights + "') on a machine "
                'with internet access); they are not downloaded here')
        vgg = torchvision.models.vgg16(weights=None)
        state = load_weights_file(weights, 'VGG16 weights')
        state = {k: v for k, v in state.items() if k.startswith('features.')}
        missing, _ = vgg.load_state_dict(state, strict=False)
        missing = [k for k in missing if k.startswith('features.')]
        if missing:
            raise KeyError(f'VGG16Features: {weights} lacks {missing[:4]} (expected '
                           "torchvision's vgg16 layout, keys 'features.<i>.weight')")
        self.layers = {VGG16_RELU_INDICES[name]: name for name in layers}
        self.features = vgg.features[:max(self.layers) + 1]
        self.requires_grad_(False)
        self.eval()

    def forward(self, image):
        out, x = {}, image
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.layers:
                out[self.layers[index]] = x
        return out
