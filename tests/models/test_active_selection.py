"""RIPU's scores and greedy selection against hand-computed answers (SPEC-more-uda.md §3.6)."""
import math

import torch

from mmseg.models.uda.active_selection import (pixel_scores, region_scores, regions_per_round,
                                               select_regions)


def logits_of(labels, num_classes=3, confidence=5.0):
    """1×K×H×W logits whose argmax is ``labels`` (H×W long)."""
    return (torch.nn.functional.one_hot(labels, num_classes).permute(2, 0, 1)[None].float()
            * confidence)


def test_uniform_label_window_has_zero_impurity():
    _, impurity, _ = region_scores(logits_of(torch.full((5, 5), 2)), 1)
    assert torch.allclose(impurity, torch.zeros(5, 5, dtype=torch.float64), atol=1e-5)


def test_four_five_split_impurity_and_corner_count():
    labels = torch.tensor([[0, 0, 1], [0, 0, 1], [1, 1, 1]])
    _, impurity, _ = region_scores(logits_of(labels), 1)
    expected = -(4 / 9 * math.log(4 / 9) + 5 / 9 * math.log(5 / 9)) / math.log(19)
    assert abs(impurity[1, 1].item() - expected) < 1e-5
    assert abs(expected - 0.2333) < 1e-4
    # The top-left corner window holds 4 in-image pixels, all class 0: pure.
    assert abs(impurity[0, 0].item()) < 1e-5
    # The bottom-left corner window: 2 of class 0 (row 1) and 2 of class 1 (row 2).
    half = -(2 * 0.5 * math.log(0.5 + 1e-6)) / math.log(19)
    assert abs(impurity[2, 0].item() - half) < 1e-6


def test_constant_entropy_gives_constant_uncertainty_including_borders():
    logits = torch.zeros(1, 4, 6, 7)  # uniform softmax: Ĥ = log 4 / log 19 everywhere
    score, impurity, uncertainty = region_scores(logits, 1)
    probs = torch.full((4,), 0.25, dtype=torch.float64)
    constant = -(probs * torch.log(probs + 1e-6)).sum() / math.log(19)
    assert torch.allclose(uncertainty, constant.expand(6, 7), atol=1e-12)
    assert torch.equal(score, uncertainty * impurity)


def test_pixel_scores_are_unnormalised_entropy_times_window_impurity():
    labels = torch.zeros(9, 9, dtype=torch.long)
    labels[:, 5:] = 1
    logits = logits_of(labels, 2, confidence=1.0)
    scores = pixel_scores(logits, 1)
    p = torch.softmax(torch.tensor([1.0, 0.0], dtype=torch.float64), 0)
    entropy = -(p * torch.log(p + 1e-6)).sum()
    impurity = -(2 / 3 * math.log(2 / 3 + 1e-6) + 1 / 3 * math.log(1 / 3 + 1e-6))
    assert abs(scores[4, 4].item() - entropy.item() * impurity) < 1e-9  # window cols 3-5
    assert abs(scores[4, 1].item()) < 1e-6  # pure window (the 1e-6 inside the log)


def test_selected_centres_are_apart_and_regions_follow_the_budget():
    torch.manual_seed(0)
    score = torch.rand(20, 20, dtype=torch.float64)
    num = regions_per_round('RA', 20, 20, rounds=5, ratio=0.2, radius_k=1)
    assert num == math.ceil(20 * 20 * 0.2 / 5 / 9) == 2
    num = 6
    active = torch.zeros(20, 20, dtype=torch.bool)
    selected, new_active = select_regions(score, active, num, label_radius=1,
                                          suppress_radius=2)
    # Recover the centres: the greedy maxima, each the best score outside earlier windows.
    masked, centres = score.clone(), []
    for _ in range(num):
        y, x = divmod(masked.view(-1).argmax().item(), 20)
        centres.append((y, x))
        masked[max(y - 2, 0):y + 3, max(x - 2, 0):x + 3] = -math.inf
    for i, a in enumerate(centres):
        for b in centres[i + 1:]:
            assert max(abs(a[0] - b[0]), abs(a[1] - b[1])) >= 3
    expected = torch.zeros(20, 20, dtype=torch.bool)
    for y, x in centres:
        expected[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2] = True
    assert torch.equal(selected, expected)  # labelled pixels = the 3×3 windows
    assert not active.any()  # the input is not modified
    assert new_active[selected].all() and new_active.sum() > selected.sum()


def test_budget_formula_at_cityscapes_size():
    assert regions_per_round('RA', 1024, 2048, rounds=5) == 1026
    assert regions_per_round('PA', 1024, 2048, rounds=5, select_size=(640, 1280)) == 21


def test_second_round_never_selects_inside_active():
    torch.manual_seed(1)
    score = torch.rand(20, 20)
    active = torch.zeros(20, 20, dtype=torch.bool)
    first, active = select_regions(score, active, 5, 1, 2)
    second, active2 = select_regions(score, active, 5, 1, 2)
    assert not (second & first).any()
    # No second-round centre lies in the first round's suppressed area: every second-round
    # window's centre pixel was free.
    centre_free = select_regions(score, active, 5, 0, 2)[0]
    assert not (centre_free & active).any() and centre_free.sum() == 5
    assert (active2 | active).equal(active2)


def test_ties_broken_like_torch_max_and_exhaustion_stops():
    score = torch.zeros(3, 3)
    selected, active = select_regions(score, torch.zeros(3, 3, dtype=torch.bool), 5, 0, 2)
    assert selected.sum() == 1 and selected[0, 0]  # first maximum; then all suppressed
    assert active.all()


def test_pixel_mode_labels_single_pixels():
    score = torch.arange(100.).view(10, 10)
    selected, _ = select_regions(score, torch.zeros(10, 10, dtype=torch.bool), 2, 0, 3)
    assert selected.sum() == 2 and selected[9, 9] and selected[9, 5]
