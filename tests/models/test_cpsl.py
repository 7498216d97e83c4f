"""CPSL building blocks with known answers (SPEC-more-uda.md §2.6)."""
import numpy as np
import pytest
import torch

from mmseg.models.uda.cpsl import (balanced_sample_counts, class_shares, cutmix, ema_prior,
                                   image_class_means,
                                   queue_contrastive_loss, rectified_label, sample_positions,
                                   sinkhorn_knopp, symmetric_ce)
from mmseg.models.uda.pixel_queue import PixelQueue
from mmseg.models.uda.prototype_head import PrototypeHead
from mmseg.models.utils.view_geometry import ViewGeometry, full2weak, sample_weak_geometry

PRIOR = torch.tensor([0.5, 0.3, 0.15, 0.05], dtype=torch.float64)


def test_uniform_scores_give_the_prior_in_every_row():
    q = sinkhorn_knopp(torch.zeros(6, 4, dtype=torch.float64), PRIOR)
    assert torch.allclose(q, PRIOR.expand(6, 4), atol=1e-12)


def test_many_iterations_give_unit_rows_and_prior_columns():
    scores = torch.rand(200, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    q = sinkhorn_knopp(scores, PRIOR, eps=0.05, iters=500)
    assert torch.allclose(q.sum(1), torch.ones(200, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(q.sum(0), 200 * PRIOR, atol=1e-3 * 200)
    few = sinkhorn_knopp(scores, PRIOR, eps=0.05, iters=3)  # the official 3: not yet there
    assert torch.allclose(few.sum(1), torch.ones(200, dtype=torch.float64), atol=1e-6)


def test_small_eps_gives_one_hot_rows_with_class_counts_of_the_prior():
    scores = torch.rand(400, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    q = sinkhorn_knopp(scores, PRIOR, eps=0.002, iters=3000)
    assert (q.max(1).values > 0.95).float().mean() > 0.97
    counts = torch.bincount(q.argmax(1), minlength=4).double()
    assert torch.allclose(counts, 400 * PRIOR, atol=2)


def test_rectified_label_of_the_issue_is_class_0():
    p_sl = torch.tensor([0.9, 0.1]).view(1, 2, 1, 1)
    p_st = torch.tensor([0.4, 0.6]).view(1, 2, 1, 1)
    assert rectified_label(p_sl, p_st).item() == 0
    assert p_st.argmax(1).item() == 1  # P_ST alone says class 1


def test_ema_prior_and_balanced_counts():
    prior = ema_prior(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), 0.9)
    assert torch.allclose(prior, torch.tensor([0.9, 0.1]))
    assert balanced_sample_counts(torch.tensor([0.5, 0.3, 0.2]), 10).tolist() == [5, 3, 2]
    label = torch.tensor([0] * 50 + [1] * 30 + [2] * 20).view(10, 10)
    assert torch.allclose(class_shares(label, 3), torch.tensor([0.5, 0.3, 0.2]))
    idx = sample_positions(label, 10, 3, balanced=True)
    assert torch.bincount(label.flatten()[idx], minlength=3).tolist() == [5, 3, 2]
    assert sample_positions(label, 10, 3, balanced=False).unique().numel() == 10


def test_queue_is_fifo_newest_first_and_full_after_length_pushes():
    queue = PixelQueue(5, 1)
    queue.push(torch.tensor([[1.], [2.]]), torch.tensor([1, 2]))
    assert not queue.full
    queue.push(torch.tensor([[3.], [4.]]))
    queue.push(torch.tensor([[5.], [6.]]), torch.tensor([5, 6]))
    assert queue.full
    assert queue.items.flatten().tolist() == [5, 6, 3, 4, 1]
    assert queue.labels.tolist() == [5, 6, 255, 255, 1]
    restored = PixelQueue(5, 1)
    restored.load_state_dict(queue.state_dict())
    assert restored.full and torch.equal(restored.items, queue.items)


def test_prototype_head_cosine_logits_and_ema():
    head = PrototypeHead(2, 3, tau=0.5)
    head.initialise(torch.tensor([[1., 0, 0], [0, 1, 0]]))
    feat = torch.tensor([2., 0, 0]).view(1, 3, 1, 1)
    assert torch.allclose(head(feat).flatten(), torch.tensor([2., 0.]))
    with torch.no_grad():
        head.prototypes.zero_()
    head.update_ema(0.75)
    assert torch.allclose(head.prototypes_ema, 0.75 * torch.tensor([[1., 0, 0], [0, 1, 0]]))


def test_symmetric_ce_of_a_perfect_prediction_is_only_its_ce():
    logits = torch.tensor([10., -10.]).view(1, 2, 1, 1).repeat(1, 1, 2, 2)
    label = torch.tensor([[[0, 0], [0, 255]]])
    loss = symmetric_ce(logits, label, 0.1, 1.0)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    wrong = symmetric_ce(-logits, label, 0.0, 1.0)  # RCE of a confident wrong pixel: -log 1e-4
    assert wrong.item() == pytest.approx(-np.log(1e-4), rel=1e-4)


def test_contrastive_loss_prefers_features_near_their_class():
    queue = torch.tensor([[1., 0], [0, 1]])
    labels = torch.tensor([0, 1])
    near = queue_contrastive_loss(torch.tensor([[1., 0]]), torch.tensor([0]), queue, labels, 0.1)
    far = queue_contrastive_loss(torch.tensor([[0., 1]]), torch.tensor([0]), queue, labels, 0.1)
    assert near < far


def ramp(h, w):
    return torch.arange(w, dtype=torch.float32).view(1, 1, 1, w).expand(1, 1, h, w) \
        + 1000 * torch.arange(h, dtype=torch.float32).view(1, 1, h, 1)


@pytest.mark.parametrize('flip', [False, True])
def test_weak_view_of_a_ramp_is_the_crop_and_flip_of_the_image(flip):
    full = ramp(16, 32)
    geometry = ViewGeometry(scale=1.0, top=4, left=8, size=(8, 12), flip=flip)
    view, valid = full2weak(full, [geometry], (16, 32))
    expected = full[:, :, 4:12, 8:20]
    expected = expected.flip(-1) if flip else expected
    assert torch.allclose(view, expected, atol=1e-3) and valid.all()
    # The same geometry on a 1/4 map (a decoder output) gives the view of its pixels.
    small = ramp(4, 8)
    view, _ = full2weak(small, [geometry], (16, 32), stride=4)
    expected = small[:, :, 1:3, 2:5]
    assert torch.allclose(view, expected.flip(-1) if flip else expected, atol=1e-3)


def test_upscaled_view_and_padding_are_consistent():
    full = ramp(8, 8)
    geometry = ViewGeometry(scale=2.0, top=0, left=0, size=(4, 4), flip=False)
    view, valid = full2weak(full, [geometry], (8, 8), mode='nearest')
    assert torch.equal(view[0, 0, 0], torch.tensor([0., 0., 1., 1.]))
    past = ViewGeometry(scale=1.0, top=0, left=6, size=(2, 4), flip=False)
    view, valid = full2weak(full, [past], (8, 8))
    assert valid[0, 0].tolist() == [True, True, False, False]
    assert view[0, 0, 0, 2:].abs().sum() == 0


def test_sampled_geometry_stays_inside_the_resized_image():
    np.random.seed(0)
    for _ in range(20):
        g = sample_weak_geometry((128, 256), (128, 128), (1.0, 1.5))
        assert 1.0 <= g.scale <= 1.5
        assert g.top + 128 <= int(128 * g.scale) and g.left + 128 <= int(256 * g.scale)


def test_cutmix_pastes_the_same_box_into_image_and_label():
    np.random.seed(3)
    weak, src = torch.zeros(1, 3, 16, 16), torch.ones(1, 3, 16, 16)
    label = torch.zeros(1, 4, 4, dtype=torch.long)
    src_label = torch.full((1, 1, 16, 16), 7)
    img, mixed = cutmix(weak, label, src, src_label, area=0.25)
    box = img[0, 0] == 1
    assert 0 < box.float().mean() <= 0.25
    rows, cols = torch.nonzero(box.any(1)).flatten(), torch.nonzero(box.any(0)).flatten()
    assert box.sum() == len(rows) * len(cols)  # one rectangle
    # The label box is the image box at ŷ's stride 4.
    expected = torch.zeros(4, 4, dtype=torch.bool)
    expected[rows[0] // 4:(rows[-1] + 1) // 4, cols[0] // 4:(cols[-1] + 1) // 4] = True
    assert expected.any() and torch.equal(mixed[0] == 7, expected)
    with pytest.raises(ValueError, match='weak_view.crop_size'):
        cutmix(weak, label, torch.ones(1, 3, 8, 8), src_label)


def test_prototypes_of_a_two_class_map_are_the_normalised_class_means():
    from mmseg.apis.cpsl_prepare import finish_prototypes, prior_from_counts
    pred = torch.tensor([[0, 0, 1, 1]] * 4)
    feat = torch.zeros(2, 4, 4)
    feat[:, :, :2] = torch.tensor([3., 4.]).view(2, 1, 1)  # class 0: (3, 4)
    feat[0, :, 2:] = torch.tensor([1., -1, 1, -1]).view(4, 1)  # class 1: channel 0 mean 0
    feat[1, :, 2:] = 2.0  # class 1: mean (0, 2)
    means, present = image_class_means(feat, pred, 3, min_pixels=5)
    assert present.tolist() == [True, True, False]
    protos, missing = finish_prototypes(means.double() * present.unsqueeze(1),
                                        present.double())
    assert torch.allclose(protos[0], torch.tensor([0.6, 0.8], dtype=torch.float64))
    assert torch.allclose(protos[1], torch.tensor([0., 1.], dtype=torch.float64))
    assert missing == [2] and protos[2].norm().item() == pytest.approx(1)
    prior = prior_from_counts(torch.tensor([8., 8., 0.]))
    assert prior[2] > 0 and prior.sum().item() == pytest.approx(1)
    assert prior[0].item() == pytest.approx(0.5, abs=1e-4)


def test_dlv2_proj_head_feature_and_logits():
    from mmseg.models.decode_heads import DLV2ProjHead
    head = DLV2ProjHead(in_channels=64, channels=32, num_classes=5, dilations=(1, 2))
    head.eval()
    x = [torch.randn(2, 64, 6, 6)]
    feat = head.forward_feat(x)
    assert feat.shape == (2, 32, 6, 6)
    assert torch.allclose(head(x), head.conv_seg(feat), atol=1e-6)  # dropout off in eval


def test_ema_teacher_copies_the_student_buffers_only_when_asked():
    from mmseg.models.uda.ema_teacher import copy_buffer_values
    student, teacher = torch.nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    student.running_mean.fill_(2.0)
    copy_buffer_values(teacher, student)
    assert torch.equal(teacher.running_mean, student.running_mean)


def test_prepare_folder_errors_name_the_file(tmp_path):
    from mmseg.utils.cpsl_prepare_files import (CPSLPrepareError, load_soft_labels,
                                                read_prepare_dir, write_prepare_record,
                                                write_soft_label)
    with pytest.raises(FileNotFoundError, match='class_prior.json.*cpsl_prepare.py'):
        read_prepare_dir(str(tmp_path), 3, 4)
    write_prepare_record(str(tmp_path), torch.tensor([0.5, 0.25, 0.25]), torch.zeros(3, 4),
                         {'num_images': 1})
    prior, protos, _ = read_prepare_dir(str(tmp_path), 3, 4)
    assert torch.allclose(prior, torch.tensor([0.5, 0.25, 0.25])) and protos.shape == (3, 4)
    with pytest.raises(CPSLPrepareError, match='prototypes.pth.*another architecture'):
        read_prepare_dir(str(tmp_path), 3, 8)
    with pytest.raises(CPSLPrepareError, match='class_prior.json.*4 non-negative'):
        read_prepare_dir(str(tmp_path), 4, 4)
    write_soft_label(str(tmp_path / 'soft_labels' / 'a' / 'x.npy'), torch.rand(3, 2, 4))
    metas = [{'ori_filename': 'a/x.png'}]
    assert load_soft_labels(str(tmp_path), metas, (2, 4)).shape == (1, 3, 2, 4)
    with pytest.raises(CPSLPrepareError, match='same target image size'):
        load_soft_labels(str(tmp_path), metas, (4, 8))
    with pytest.raises(FileNotFoundError, match='b/y.npy'):
        load_soft_labels(str(tmp_path), [{'ori_filename': 'b/y.png'}], (2, 4))
