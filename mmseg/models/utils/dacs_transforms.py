"""ClassMix and the strong photometric transform of DACS (SPEC-uda.md step 5)."""
import math
import random

import kornia
import numpy as np
import torch


def image_norm_stats(img_metas, device):
    """Per-sample ImageNet mean/std (N×3×1×1 each) from ``img_metas[i]['img_norm_cfg']``."""
    mean = torch.stack([torch.as_tensor(m['img_norm_cfg']['mean'], device=device,
                                        dtype=torch.float32) for m in img_metas])
    std = torch.stack([torch.as_tensor(m['img_norm_cfg']['std'], device=device,
                                       dtype=torch.float32) for m in img_metas])
    return mean.view(-1, 3, 1, 1), std.view(-1, 3, 1, 1)


def class_mix_masks(labels):
    """ClassMix masks, one per sample: labels N×1×H×W → list of N masks 1×1×H×W (float).

    Classes are drawn from the unique values of the *whole* batch (ignore included, as the
    original), ⌈n/2⌉ of them without replacement (numpy RNG); mask = pixels of sample i in
    the chosen classes.
    """
    masks = []
    for label in labels:
        classes = torch.unique(labels)
        n = classes.shape[0]
        chosen = np.random.choice(n, (n + n % 2) // 2, replace=False)
        chosen = classes[torch.as_tensor(chosen, dtype=torch.long, device=classes.device)]
        masks.append(class_mask(label, chosen).unsqueeze(0))
    return masks


def class_mask(label, classes):
    """label: 1×H×W, classes: K → 1×H×W mask of pixels whose class is in ``classes``."""
    return torch.isin(label, classes).to(torch.float32)


def mix(mask, foreground, background):
    """``mask·foreground + (1−mask)·background``; mask broadcasts over channels."""
    return mask * foreground + (1 - mask) * background


def blur_kernel_size(side):
    """Odd kernel size nearest 10 % of an image side."""
    size = math.ceil(0.1 * side)
    return size if size % 2 == 1 else size - 1


def color_jitter(img, mean, std, strength):
    """Colour jitter (kornia ColorJiggle, factors drawn per sample) on the de-normalised
    0–1 image, re-normalised. img: N×3×H×W normalised."""
    jiggle = kornia.augmentation.ColorJiggle(brightness=strength, contrast=strength,
                                             saturation=strength, hue=strength)
    img = jiggle((img * std + mean) / 255.)
    return (img * 255. - mean) / std


def gaussian_blur(img):
    """Gaussian blur with σ ~ U(0.15, 1.15) (numpy RNG) and kernels ≈ 10 % of the sides."""
    sigma = np.random.uniform(0.15, 1.15)
    kernel = (blur_kernel_size(img.shape[2]), blur_kernel_size(img.shape[3]))
    return kornia.filters.gaussian_blur2d(img, kernel, (sigma, sigma))


class StrongTransform:
    """Colour jitter and blur whose on/off switches are drawn once per iteration.

    Args:
        color_jitter_strength (float): strength s for brightness/contrast/saturation/hue.
        color_jitter_probability (float): jitter when a uniform draw exceeds it.
        blur (bool): enable Gaussian blur (applied when a uniform draw > 0.5).
    """

    def __init__(self, color_jitter_strength, color_jitter_probability, blur):
        self.strength = color_jitter_strength
        self.jitter_p = color_jitter_probability
        self.blur = blur
        self.new_iteration()

    def new_iteration(self):
        """Draw this iteration's switches (python's RNG, as the original)."""
        self.do_jitter = random.uniform(0, 1) > self.jitter_p
        self.do_blur = self.blur and random.uniform(0, 1) > 0.5

    def __call__(self, img, mean, std):
        """img: 1×3×H×W normalised (one sample: per-sample jitter factors and σ)."""
        if self.do_jitter:
            img = color_jitter(img, mean, std, self.strength)
        if self.do_blur:
            img = gaussian_blur(img)
        return img


def class_mix_batch(masks, src_img, src_label, trg_img, pseudo_label, pseudo_weight,
                     strong_transform, mean, std):
    """ClassMix each source/target pair, then the strong transform on the mixed image.

    Args:
        masks: list of N masks 1×1×H×W from :func:`class_mix_masks`.
        src_img, trg_img: N×3×H×W; src_label: N×1×H×W; pseudo_label, pseudo_weight: N×H×W.
    Returns:
        mixed image N×3×H×W, mixed label N×1×H×W (long), mixed weight N×H×W.
    """
    mixed_img, mixed_label, mixed_weight = [], [], []
    for i, mask in enumerate(masks):
        img = mix(mask, src_img[i:i + 1], trg_img[i:i + 1])
        mixed_img.append(strong_transform(img, mean[i:i + 1], std[i:i + 1]))
        mixed_label.append(mix(mask[0], src_label[i].float(), pseudo_label[i:i + 1].float()))
        mixed_weight.append(mix(mask[0, 0], torch.ones_like(pseudo_weight[i]), pseudo_weight[i]))
    return (torch.cat(mixed_img), torch.stack(mixed_label).long(), torch.stack(mixed_weight))
