"""CPSL pre-computation (SPEC-more-uda.md §2.2 (a)-(c)) from the warm-up model: for every
target-train image the soft pseudo-label P_ST (softmax at the decoder's output size), the
class prior r (pixel shares of the argmax) and the prototype initialisation (per image,
class means of the pre-classifier features; averaged over the images, L2-normalised)."""
import os

import mmcv
import torch
import torch.nn.functional as F

from mmseg.models.uda.cpsl import image_class_means
from mmseg.utils.cpsl_prepare_files import (soft_label_path, write_prepare_record,
                                            write_soft_label)

from .inference import build_test_segmentor, load_segmentor_checkpoint
from .label_shift import target_loader

# A floor under the prior: a class the warm-up model never predicts would make a zero row
# in Sinkhorn-Knopp, whose row normalisation divides by zero.
PRIOR_FLOOR = 1e-5


def prior_from_counts(pixel_counts, floor=PRIOR_FLOOR):
    """Shares of the argmax pixels, floored at ``floor`` and renormalised. K → K."""
    shares = pixel_counts.double() / pixel_counts.sum().clamp(min=1)
    shares = shares.clamp(min=floor)
    return shares / shares.sum()


def finish_prototypes(sums, images, seed=0):
    """The L2-normalised mean of the per-image class means (sums K×D, images K); classes
    seen in no image get a random unit vector (``seed``) and are listed."""
    missing = [int(c) for c in torch.nonzero(images == 0).flatten()]
    protos = sums / images.clamp(min=1).unsqueeze(1)
    if missing:
        generator = torch.Generator().manual_seed(seed)
        protos[missing] = torch.randn(len(missing), sums.shape[1], generator=generator,
                                      dtype=sums.dtype)
    return F.normalize(protos, dim=1), missing


@torch.no_grad()
def cpsl_prepare(cfg, checkpoint, out_dir, min_pixels=10, device=None):
    """Write ``out_dir`` (mmseg.utils.cpsl_prepare_files) from the model of ``cfg``
    (its decode head needs ``forward_feat``) loaded from ``checkpoint``; returns the
    class_prior.json record."""
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = build_test_segmentor(cfg)
    head = model.decode_head
    if not hasattr(head, 'forward_feat'):
        raise ValueError(f'cpsl_prepare: the decode head {type(head).__name__} of the config '
                         'has no forward_feat (pre-classifier features)')
    loader = target_loader(cfg)
    load_segmentor_checkpoint(model, checkpoint, dataset_classes=loader.dataset.CLASSES)
    model.to(device).eval()
    num_classes = model.num_classes
    pixel_counts = torch.zeros(num_classes, dtype=torch.float64)
    sums = torch.zeros(num_classes, head.channels, dtype=torch.float64)
    images = torch.zeros(num_classes, dtype=torch.float64)
    os.makedirs(out_dir, exist_ok=True)
    progress = mmcv.ProgressBar(len(loader.dataset))
    files = []
    for data in loader:
        img = data['img'][0].to(device)
        metas = data['img_metas'][0].data[0]
        feat = head.forward_feat(model.extract_feat(img)).float()
        probs = F.softmax(head.cls_seg(feat), dim=1)
        pred = probs.argmax(1)
        for i, meta in enumerate(metas):
            write_soft_label(soft_label_path(out_dir, meta['ori_filename']), probs[i])
            files.append(meta['ori_filename'])
            pixel_counts += torch.bincount(pred[i].flatten(), minlength=num_classes).cpu()
            means, present = image_class_means(feat[i], pred[i], num_classes, min_pixels)
            sums[present.cpu()] += means[present].double().cpu()
            images += present.double().cpu()
            progress.update()
    prototypes, missing = finish_prototypes(sums, images)
    prior = prior_from_counts(pixel_counts)
    record = dict(checkpoint=checkpoint, num_classes=num_classes, num_images=len(files),
                  feat_dim=head.channels, soft_label_size=list(probs.shape[2:]),
                  min_pixels=min_pixels, pixel_counts=pixel_counts.tolist(),
                  missing_classes=missing, classes=list(model.CLASSES))
    write_prepare_record(out_dir, prior, prototypes.float(), record)
    return dict(record, prior=prior.tolist())
