"""CPSL: class-balanced pixel-level self-labeling (Li et al., CVPR 2022), stage 1
(SPEC-more-uda.md §2.2; step numbers in the comments refer to that list).

From the warm-up model (AdvSeg), ``tools/cpsl_prepare.py`` writes the soft pseudo-labels
P_ST, the class prior r and the prototype initialisation (mmseg.utils.cpsl_prepare_files).
Each iteration: source CE; an EMA teacher on the full target image gives the
pre-classifier features z and logits; the prototype head f_SL (cosine / τ) rectifies
P_ST into ŷ = argmax(P_SL ⊙ P_ST) on a weak view (random resize, crop, flip); the student
learns ŷ with CE + reverse CE (on a CutMix of the weak view half of the time), matches
the teacher's prototype assignment on a strong view (KL) and contrasts its features with
a queue; the prototypes alone learn the Sinkhorn-balanced assignments of sampled teacher
pixels (self-labeling).
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

from mmseg.models.builder import UDA
from mmseg.models.utils.dacs_transforms import StrongTransform, image_norm_stats
from mmseg.models.utils.view_geometry import full2weak, sample_weak_geometry
from mmseg.utils.cpsl_prepare_files import load_soft_labels, read_prepare_dir

from .ema_teacher import EMATeacher
from .pixel_queue import PixelQueue
from .prototype_head import PrototypeHead
from .uda_decorator import UDADecorator

IGNORE_INDEX = 255


@torch.no_grad()
def sinkhorn_knopp(scores, prior, eps=0.05, iters=3):
    """Class-balanced soft assignment of B samples to K classes (step 7, official order).

    Q = exp(S/ε)ᵀ (K×B); Q /= ΣQ; ``iters`` times: rows (classes) /= their sums, ×= r,
    columns (samples) /= their sums, /= B; finally ×= B. No overflow guard (as official).

    Args:
        scores: B×K similarities.
        prior: K class shares r (sum 1).
    Returns:
        Q: B×K; each row sums to 1, column k sums to ≈ B·r_k (exactly in the limit).
    """
    q = torch.exp(scores / eps).t()
    num_samples = q.shape[1]
    q = q / q.sum()
    r = prior.to(q).view(-1, 1)
    for _ in range(iters):
        q = q / q.sum(dim=1, keepdim=True)
        q = q * r
        q = q / q.sum(dim=0, keepdim=True)
        q = q / num_samples
    return (q * num_samples).t()


def rectified_label(p_sl, p_st):
    """ŷ = argmax_k P_SL ⊙ P_ST (step 4). p_sl, p_st: N×K×h×w → N×h×w long."""
    return torch.argmax(p_sl * p_st, dim=1)


def ema_prior(prior, share, momentum):
    """Paper's class prior δ_pseudo ← m·δ_pseudo + (1−m)·δ (δ: this batch's ŷ shares)."""
    return momentum * prior + (1 - momentum) * share


def class_shares(labels, num_classes):
    """Pixel shares of the classes in ``labels`` (any shape; ignore pixels not counted)
    → K floats (zeros when no pixel is labelled)."""
    labels = labels.reshape(-1)
    labels = labels[labels < num_classes]
    counts = torch.bincount(labels, minlength=num_classes).float()
    return counts / counts.sum().clamp(min=1)


def balanced_sample_counts(share, num_samples):
    """Paper's class-balanced sampling: M_c = ⌈M·δ^(c)⌉ pixels of class c (a tolerance
    keeps float round-off from adding a pixel). share: K → K long."""
    return torch.ceil(share * num_samples - 1e-6).clamp(min=0).long()


def sample_positions(label, num_samples, num_classes, balanced):
    """Pixel indices (flattened) of one image's map for the self-labeling loss (step 6).

    Uniform (official): ``num_samples`` random positions (torch RNG). Balanced (paper):
    ⌈M·δ_c⌉ random pixels of each class c of ``label`` (h×w), all of them when fewer.
    """
    flat = label.reshape(-1)
    if not balanced:
        return torch.randperm(flat.numel(), device=flat.device)[:num_samples]
    counts = balanced_sample_counts(class_shares(flat, num_classes), num_samples).tolist()
    chosen = []
    for c, count in enumerate(counts):
        if count == 0:
            continue
        pixels = torch.nonzero(flat == c).squeeze(1)
        chosen.append(pixels[torch.randperm(pixels.numel(), device=flat.device)[:count]])
    return torch.cat(chosen)


def image_class_means(feat, pred, num_classes, min_pixels=10):
    """Per class, the mean feature of one image's pixels predicted as that class
    (prototype initialisation, pre-computation (c); classes with fewer than
    ``min_pixels`` pixels are left out). feat: D×h×w, pred: h×w → (K×D means, K bool)."""
    flat_feat = feat.flatten(1).t()
    one_hot = F.one_hot(pred.flatten(), num_classes).to(flat_feat.dtype)
    counts = one_hot.sum(0)
    means = one_hot.t() @ flat_feat / counts.clamp(min=1).unsqueeze(1)
    return means, counts >= min_pixels


def symmetric_ce(logits, label, alpha, beta):
    """α·CE + β·RCE (step 5). RCE = −Σ_k p_k·log(clamp(onehot_k, 1e-4)) over labelled
    pixels, p = clamp(softmax, 1e-7). logits: N×K×h×w, label: N×h×w (255 ignored)."""
    ce = F.cross_entropy(logits, label, ignore_index=IGNORE_INDEX)
    if beta == 0:
        return alpha * ce
    num_classes = logits.shape[1]
    prob = F.softmax(logits, dim=1).clamp(min=1e-7, max=1.0)
    valid = (label != IGNORE_INDEX).float()
    one_hot = F.one_hot(torch.where(label == IGNORE_INDEX, num_classes, label),
                        num_classes + 1)[..., :num_classes].permute(0, 3, 1, 2).float()
    rce = -(prob * torch.log(one_hot.clamp(min=1e-4, max=1.0))).sum(1)
    rce = (rce * valid).sum() / (valid.sum() + 1e-6)
    return alpha * ce + beta * rce


def self_labeling_loss(similarity, assignment, tau):
    """−mean_m Σ_k q_mk·log softmax(s_m/τ) (step 6). similarity, assignment: M×K."""
    return -(assignment * F.log_softmax(similarity / tau, dim=1)).sum(1).mean()


def queue_contrastive_loss(feats, labels, queue_feats, queue_labels, tau):
    """Supervised contrastive term of step 9 (official form): anchors ``feats`` M×D
    (normalised), the queue Q×D; positives share the label. log p = l − log(e^l + Σ_neg e^l)
    with l = a·q/τ (max-shifted), averaged over the positives of each anchor."""
    positives = (labels.view(-1, 1) == queue_labels.view(1, -1)).float()
    logits = feats @ queue_feats.t() / tau
    logits = logits - logits.max(dim=1, keepdim=True)[0].detach()
    exp_logits = torch.exp(logits)
    negatives = (exp_logits * (1 - positives)).sum(1, keepdim=True)
    log_prob = logits - torch.log(exp_logits + negatives)
    return -((positives * log_prob).sum(1) / (positives.sum(1) + 1e-5)).mean()


def cutmix_box(height, width, area=0.5):
    """A random box (y1, y2, x1, x2) of ``area`` of the image (numpy RNG), clipped."""
    cut = math.sqrt(area)
    ch, cw = int(height * cut), int(width * cut)
    cy, cx = np.random.randint(height), np.random.randint(width)
    return (int(np.clip(cy - ch // 2, 0, height)), int(np.clip(cy + ch // 2, 0, height)),
            int(np.clip(cx - cw // 2, 0, width)), int(np.clip(cx + cw // 2, 0, width)))


def cutmix(weak_img, label, src_img, src_label, area=0.5):
    """Step 2: paste one random source box (``area`` of the view, shared by the batch) into
    the weak images and the source labels into ŷ at ŷ's stride.

    weak_img, src_img: N×3×H×W; label: N×h×w; src_label: N×1×H×W → (images, labels)."""
    if src_img.shape[2:] != weak_img.shape[2:]:
        raise ValueError(f'CPSL: CutMix needs source crops of the weak view size '
                         f'{tuple(weak_img.shape[2:])} (weak_view.crop_size), got '
                         f'{tuple(src_img.shape[2:])}')
    stride = weak_img.shape[2] // label.shape[1]
    y1, y2, x1, x2 = cutmix_box(weak_img.shape[2], weak_img.shape[3], area)
    weak_img = weak_img.clone()
    weak_img[:, :, y1:y2, x1:x2] = src_img[:, :, y1:y2, x1:x2]
    src_small = F.interpolate(src_label.float(), size=label.shape[1:], mode='nearest')
    label = label.clone()
    sy1, sy2, sx1, sx2 = y1 // stride, y2 // stride, x1 // stride, x2 // stride
    label[:, sy1:sy2, sx1:sx2] = src_small[:, 0, sy1:sy2, sx1:sx2].long()
    return weak_img, label


def pixel_vectors(maps):
    """N×C×h×w → N×(h·w)×C."""
    return maps.flatten(2).transpose(1, 2)


@UDA.register_module()
class CPSL(UDADecorator):
    """CPSL stage 1 from the warm-up model (``load_from``) and its prepare folder.

    Config keys (``configs/_base_/uda/cpsl.py``): ``prepare_dir``; ``alpha`` (EMA teacher
    and prototypes); ``tau``, ``eps``, ``sinkhorn_iters``, ``num_samples`` (M per image),
    ``queue_len``; ``prior`` 'fixed' (code: the prepared r) or 'ema' (paper: δ_pseudo,
    ``prior_momentum``); ``class_balanced_sampling`` (paper) or uniform (code);
    ``rectify`` (ŷ from P_SL ⊙ P_ST, else P_ST alone); the switchable terms
    ``lambda_sl``, ``lambda_cons``, ``lambda_con``, ``rce`` (α, β; β=0: plain CE),
    ``cutmix_p`` (0: off), ``cutmix_area``; ``weak_view`` (``crop_size``,
    ``ratio_range``, ``flip_prob``); the strong view's ``color_jitter_*`` and ``blur``.
    """

    def __init__(self, model, prepare_dir, alpha=0.999, tau=0.08, eps=0.05, sinkhorn_iters=3,
                 num_samples=256, queue_len=65536, prior='fixed', prior_momentum=0.99,
                 class_balanced_sampling=False, rectify=True, lambda_sl=0.1, lambda_cons=5.0,
                 lambda_con=1e-3, rce=(0.1, 1.0), cutmix_p=0.5, cutmix_area=0.5,
                 weak_view=None, color_jitter_strength=0.4, color_jitter_probability=0.2,
                 blur=True, max_iters=None, train_cfg=None, test_cfg=None, init_cfg=None):
        super().__init__(model, max_iters, train_cfg, test_cfg, init_cfg)
        if not prepare_dir:
            raise ValueError('CPSL: uda.prepare_dir is not set; give the folder that '
                             'tools/cpsl_prepare.py wrote from the warm-up model')
        if prior not in ('fixed', 'ema'):
            raise ValueError(f"CPSL: prior must be 'fixed' or 'ema', got {prior!r}")
        if weak_view is None or 'crop_size' not in weak_view or 'ratio_range' not in weak_view:
            raise ValueError('CPSL: weak_view must give crop_size (h, w) and ratio_range '
                             f'(min, max), got {weak_view!r}')
        head = self.get_model().decode_head
        if not hasattr(head, 'forward_feat'):
            raise ValueError(f'CPSL: the decode head {type(head).__name__} has no '
                             'forward_feat (pre-classifier features); use DAFormerHead or '
                             'DLV2ProjHead')
        self.prepare_dir = prepare_dir
        self.tau, self.eps, self.sinkhorn_iters = tau, eps, sinkhorn_iters
        self.num_samples = num_samples
        self.prior_mode, self.prior_momentum = prior, prior_momentum
        self.balanced = class_balanced_sampling
        self.rectify = rectify
        self.lambda_sl, self.lambda_cons, self.lambda_con = lambda_sl, lambda_cons, lambda_con
        self.rce_alpha, self.rce_beta = rce
        self.cutmix_p, self.cutmix_area = cutmix_p, cutmix_area
        self.weak_view = {'flip_prob': 0.5, **weak_view}
        self.alpha = alpha
        self.strong_transform = StrongTransform(color_jitter_strength,
                                                color_jitter_probability, blur)
        teacher = EMATeacher(self.model_cfg, alpha, None, copy_buffers=True)
        self.ema_model = teacher.ema_model
        object.__setattr__(self, 'teacher', teacher)

        prior_r, prototypes, _ = read_prepare_dir(prepare_dir, self.num_classes, head.channels)
        self.prototype_head = PrototypeHead(self.num_classes, head.channels, tau)
        self.prototype_head.initialise(prototypes)
        self.register_buffer('class_prior', prior_r)
        self.feat_queue = PixelQueue(queue_len, head.channels)
        self.logit_queue = PixelQueue(queue_len, self.num_classes)

    def get_ema_model(self):
        return self.ema_model

    @staticmethod
    def features_and_logits(segmentor, img):
        """Pre-classifier features N×D×h×w and logits N×K×h×w of ``segmentor``."""
        head = segmentor.decode_head
        feat = head.forward_feat(segmentor.extract_feat(img))
        return feat, head.cls_seg(feat)

    @torch.no_grad()
    def teacher_outputs(self, full_img):
        """Step 3: the EMA teacher on the full target images, in train mode (BN batch
        statistics and dropout active, as the official teacher)."""
        with self.autocast():
            feat, logits = self.features_and_logits(self.ema_model, full_img)
        return feat.float(), logits.float()

    def update_teachers(self):
        """Step 10 of the previous iteration: EMA model (buffers copied), EMA prototypes."""
        self.teacher.update(self.get_model(), self.local_iter)
        if self.local_iter > 0:
            self.prototype_head.update_ema(self.alpha)

    def pseudo_labels(self, feat_e, p_st, valid=None):
        """ŷ (step 4) and P_SL from teacher features and P_ST of the same geometry."""
        p_sl = F.softmax(self.prototype_head(feat_e, ema=True), dim=1)
        label = rectified_label(p_sl, p_st) if self.rectify else p_st.argmax(1)
        if valid is not None:
            label = torch.where(valid, label, torch.full_like(label, IGNORE_INDEX))
        return label

    def assignments(self, scores, num_current):
        """Sinkhorn over the queued and current scores (B×K, current last) under the class
        prior; the assignments Q of the ``num_current`` current samples."""
        return sinkhorn_knopp(scores, self.class_prior, self.eps,
                              self.sinkhorn_iters)[-num_current:]

    def self_labeling(self, feat_e, logits_e, label_full):
        """Step 6: L_SL1 + L_SL2 per image, / N; gradients reach only the prototypes.
        Updates both queues with the sampled pixels."""
        feats, logits = pixel_vectors(feat_e), pixel_vectors(logits_e)
        labels = label_full.flatten(1)
        # The official code draws one permutation for the whole batch.
        shared = None if self.balanced else torch.randperm(feats.shape[1],
                                                           device=feats.device)
        loss = 0
        for i in range(feats.shape[0]):
            idx = sample_positions(labels[i], self.num_samples, self.num_classes, True) \
                if self.balanced else shared[:self.num_samples]
            z = F.normalize(feats[i, idx], dim=1)
            lz = F.normalize(logits[i, idx], dim=1)
            sim = self.prototype_head.similarity(z)
            with torch.no_grad():
                scores = sim.detach()
                if self.feat_queue.full:
                    # Official: the queued features against the *un-normalised* prototypes.
                    scores = torch.cat([self.feat_queue.items
                                        @ self.prototype_head.prototypes.detach().t(), scores])
                self.feat_queue.push(z, labels[i, idx])
                q_feat = self.assignments(scores, z.shape[0])
                scores = torch.cat([self.logit_queue.items, lz]) if self.logit_queue.full \
                    else lz
                self.logit_queue.push(lz)
                q_logit = self.assignments(scores, z.shape[0])
            loss = loss + self_labeling_loss(sim, q_feat, self.tau) \
                + self_labeling_loss(sim, q_logit, self.tau)
        return loss / feats.shape[0]

    def contrastive(self, feat_s, label):
        """Step 9: M random pixels of each image's student features vs the feature queue."""
        feats, labels = pixel_vectors(feat_s), label.flatten(1)
        loss = 0
        for i in range(feats.shape[0]):
            idx = torch.randperm(feats.shape[1], device=feats.device)[:self.num_samples]
            loss = loss + queue_contrastive_loss(
                F.normalize(feats[i, idx], dim=1), labels[i, idx], self.feat_queue.items,
                self.feat_queue.labels, self.tau)
        return loss / feats.shape[0]

    def forward_train(self, img, img_metas, gt_semantic_seg, target_img, target_img_metas,
                      rare_class=None, valid_pseudo_mask=None):
        """img: N×3×H×W source crops, gt_semantic_seg N×1×H×W; target_img: N×3×H_f×W_f full
        target images (their P_ST from the prepare folder) → log_vars."""
        student = self.get_model()
        self.update_teachers()
        self.strong_transform.new_iteration()
        log_vars, _ = self.train_source_ce(img, img_metas, gt_semantic_seg)  # step 1

        full_size = tuple(target_img.shape[2:])
        feat_e, logits_e = self.teacher_outputs(target_img)  # step 3
        stride = full_size[0] // feat_e.shape[2]
        p_st = load_soft_labels(self.prepare_dir, target_img_metas,
                                feat_e.shape[2:]).to(feat_e.device)
        geometries = [sample_weak_geometry(full_size, self.weak_view['crop_size'],
                                           self.weak_view['ratio_range'],
                                           self.weak_view['flip_prob'])
                      for _ in range(target_img.shape[0])]
        weak_img, _ = full2weak(target_img, geometries, full_size)  # step 2
        feat_w, valid = full2weak(feat_e, geometries, full_size, stride)
        p_st_w, _ = full2weak(p_st, geometries, full_size, stride)
        label = self.pseudo_labels(feat_w, p_st_w, valid)  # step 4
        label_full = self.pseudo_labels(feat_e, p_st)

        if self.lambda_sl > 0:  # step 6
            loss_sl = self.self_labeling(feat_e, logits_e, label_full)
            log_vars.update(self._backward({'loss_sl': self.lambda_sl * loss_sl}, 'trg'))
        mixed = self.cutmix_p > 0 and np.random.rand() < self.cutmix_p
        student_img, student_label = (
            cutmix(weak_img, label, img, gt_semantic_seg, self.cutmix_area) if mixed
            else (weak_img, label))
        with self.autocast():  # step 5
            feat_s, logits_s = self.features_and_logits(student, student_img)
        losses = {'loss_cts': symmetric_ce(logits_s.float(), student_label, self.rce_alpha,
                                           self.rce_beta)}
        if self.lambda_con > 0 and not mixed and self.feat_queue.full:  # step 9
            losses['loss_con'] = self.lambda_con * self.contrastive(feat_s.float(), label)
        log_vars.update(self._backward(losses, 'trg'))

        if self.lambda_cons > 0:  # step 8: the strong view keeps the weak view's geometry
            mean, std = image_norm_stats(target_img_metas, target_img.device)
            strong = torch.cat([self.strong_transform(weak_img[i:i + 1], mean[i:i + 1],
                                                      std[i:i + 1])
                                for i in range(weak_img.shape[0])])
            with self.autocast():
                feat_strong, _ = self.features_and_logits(student, strong)
            teacher = F.softmax(self.prototype_head(feat_w, ema=True), dim=1)
            student_log = F.log_softmax(self.prototype_head(feat_strong.float(), ema=True), 1)
            # Official: the mean over pixels *and* classes (KL / K) of the valid pixels.
            kl = F.kl_div(student_log, teacher, reduction='none').mean(1)
            mask = valid.float()
            loss_cons = (kl * mask).sum() / mask.sum().clamp(min=1)
            log_vars.update(self._backward({'loss_cons': self.lambda_cons * loss_cons}, 'trg'))

        if self.prior_mode == 'ema':
            self.class_prior.copy_(ema_prior(self.class_prior,
                                             class_shares(label_full, self.num_classes),
                                             self.prior_momentum))
        self.local_iter += 1
        return log_vars
