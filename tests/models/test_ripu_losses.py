"""RIPU's training losses on hand-made inputs (SPEC-more-uda.md §3.6)."""
import math

import torch

from mmseg.models.uda.ripu import (label_boundary_mask, local_consistency_loss,
                                   negative_learning_loss)


def test_negative_learning_uses_only_the_low_probabilities():
    probs = torch.tensor([0.96, 0.02, 0.02]).view(1, 3, 1, 1)
    loss = negative_learning_loss(probs, 0.05)
    assert abs(loss.item() - (-math.log(0.98 + 1e-6))) < 1e-6
    # Two pixels: the second has no class below τ, so it adds nothing to the mean.
    probs = torch.tensor([[0.96, 0.02, 0.02], [0.4, 0.3, 0.3]]).T.reshape(1, 3, 1, 2)
    assert abs(negative_learning_loss(probs, 0.05).item() - loss.item()) < 1e-6
    # Gradient only through the masked entries.
    probs = probs.clone().requires_grad_()
    negative_learning_loss(probs, 0.05).backward()
    assert torch.count_nonzero(probs.grad) == 2


def test_local_consistency_is_zero_for_a_constant_prediction():
    logits = torch.tensor([2.0, -1.0, 0.5]).view(1, 3, 1, 1).expand(2, 3, 6, 6)
    gt = torch.randint(0, 3, (2, 1, 6, 6))
    assert local_consistency_loss(logits, gt).item() < 1e-6  # float32 averaging noise
    assert local_consistency_loss(logits, gt, 'all').item() < 1e-6
    assert local_consistency_loss(logits + torch.randn(2, 3, 6, 6), gt).item() > 1e-2


def test_boundary_mask_marks_label_edges_and_borders_only():
    gt = torch.zeros(1, 1, 6, 6, dtype=torch.long)
    gt[0, 0, :, 3:] = 1
    gt[0, 0, 0, 0] = 255
    mask = label_boundary_mask(gt)[0]
    expected = torch.zeros(6, 6, dtype=torch.bool)
    expected[:, 2:4] = True  # both sides of the 0/1 edge
    expected[:, 5] = expected[0, 3:] = expected[5, 3:] = True  # class-1 pixels at the border
    expected[0, 1] = expected[1, 0] = expected[1, 1] = True  # next to the 255 pixel
    assert torch.equal(mask, expected)


def test_local_consistency_ignores_interior_pixels():
    gt = torch.zeros(1, 1, 7, 7, dtype=torch.long)  # class 0: only the ignore pixel's ring
    gt[0, 0, 3, 3] = 255
    logits = torch.zeros(1, 2, 7, 7)
    logits[0, 0, 3, 3] = 4.0  # a peak at the ignored pixel
    boundary = label_boundary_mask(gt)[0]
    assert boundary.sum() == 8  # its 8 neighbours
    probs = torch.softmax(logits, 1)
    mean = torch.nn.functional.avg_pool2d(
        torch.nn.functional.pad(probs, (1, 1, 1, 1), mode='replicate'), 3, stride=1)
    distance = (probs - mean).abs().sum(1)[0]
    assert abs(local_consistency_loss(logits, gt).item()
               - distance[boundary].mean().item()) < 1e-6
    # A change at an interior pixel far from any boundary does not change the loss.
    far = logits.clone()
    far[0, 1, 0, 6] = 3.0
    gt_far = gt.clone()
    gt_far[0, 0, 3, 3] = 0  # now no boundary at all (class 0 everywhere, zero at border)
    assert local_consistency_loss(far, gt_far).item() == 0
