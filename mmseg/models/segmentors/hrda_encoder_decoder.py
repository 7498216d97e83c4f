"""HRDA multi-resolution encoder-decoder (Hoyer et al., ECCV 2022)."""
import torch

from mmseg.models.builder import SEGMENTORS
from mmseg.models.utils.crop import crop, get_crop_bbox
from mmseg.ops import resize

from .encoder_decoder import EncoderDecoder, slide_windows

FEATURE_SCALE_ALL = ('all', [1, 0.5], (1, 0.5))


@SEGMENTORS.register_module()
class HRDAEncoderDecoder(EncoderDecoder):
    """Context (LR, whole image at ``scales[1]``) and detail (HR, ``hr_crop_size`` crop at
    full resolution) through one encoder, fused by :class:`HRDAHead`.

    Args:
        scales (list[float]): [1, LR scale].
        hr_crop_size (tuple[int, int] | None): detail crop size in training.
        hr_slide_inference (bool): at inference, HR features from sliding windows of
            ``hr_crop_size`` (stride = half the crop when ``hr_slide_overlapping``).
        crop_coord_divisible (int): detail box offsets are multiples of it.
        blur_hr_crop (bool): down-up-sample the HR input (ablation).
        feature_scale (float | 'all'): which scale's features ``forward_train`` returns
            (for the feature distance); 'all' returns every scale's.
    """

    def __init__(self, backbone, decode_head, neck=None, auxiliary_head=None, train_cfg=None,
                 test_cfg=None, pretrained=None, init_cfg=None, scales=(1,), hr_crop_size=None,
                 hr_slide_inference=True, hr_slide_overlapping=True, crop_coord_divisible=1,
                 blur_hr_crop=False, feature_scale=1):
        self.feature_scale_all_strs = FEATURE_SCALE_ALL
        if isinstance(feature_scale, str) and feature_scale != 'all':
            raise ValueError(f"feature_scale must be a number or 'all', got {feature_scale!r}")
        if feature_scale not in FEATURE_SCALE_ALL and feature_scale not in scales:
            raise ValueError(f'feature_scale {feature_scale} is not one of scales {scales}')
        if len(scales) != 2 or scales[0] != 1:
            raise ValueError(f'HRDA needs scales=[1, lr_scale], got {scales}')
        decode_head = dict(decode_head, scales=list(scales),
                           enable_hr_crop=hr_crop_size is not None,
                           hr_slide_inference=hr_slide_inference)
        super().__init__(backbone, decode_head, neck, auxiliary_head, train_cfg, test_cfg,
                         pretrained, init_cfg)
        self.scales = list(scales)
        self.feature_scale = feature_scale
        self.hr_crop_size = hr_crop_size
        self.hr_slide_inference = hr_slide_inference
        self.hr_slide_overlapping = hr_slide_overlapping
        self.crop_coord_divisible = crop_coord_divisible
        self.blur_hr_crop = blur_hr_crop
        self.last_train_crop_box = {}

    def _resize(self, img, scale):
        return resize(img, scale_factor=scale, mode='bilinear', align_corners=self.align_corners)

    def scaled_input(self, img, scale):
        """The input at one scale (HR optionally blurred by down-up-sampling)."""
        if scale == 1 and self.blur_hr_crop:
            return self._resize(self._resize(img, 0.5), 2)
        return self._resize(img, scale)

    def extract_unscaled_feat(self, img):
        return super().extract_feat(img)

    def extract_slide_feat(self, img):
        """Features of batched (overlapping) HR windows → dict(features, boxes)."""
        h_crop, w_crop = self.hr_crop_size
        h_stride, w_stride = (h_crop // 2, w_crop // 2) if self.hr_slide_overlapping \
            else (h_crop, w_crop)
        boxes = slide_windows(img.shape[2], img.shape[3], h_crop, w_crop, h_stride, w_stride)
        crops = torch.cat([img[:, :, y1:y2, x1:x2] for y1, y2, x1, x2 in boxes])
        return dict(features=self.extract_unscaled_feat(crops), boxes=boxes)

    def lr_first_scale_indices(self):
        """Indices into ``scales``, smallest scale first: the original sorts its scales
        ascending and runs the encoder (and head) on LR before HR. The order matters in
        train mode: each BatchNorm call moves the running statistics, and each dropout /
        drop-path call draws from the RNG stream."""
        return sorted(range(len(self.scales)), key=lambda i: self.scales[i])

    def extract_feat(self, img, crop_boxes=None):
        """Features of the scale named by ``feature_scale`` — or, for 'all', a list with each
        scale's features (HR on ``crop_boxes[0]`` when given, e.g. the student's detail box,
        so a frozen copy sees the same crop)."""
        if self.feature_scale in FEATURE_SCALE_ALL:
            feats = [None] * len(self.scales)
            for i in self.lr_first_scale_indices():
                scaled = self.scaled_input(img, self.scales[i])
                box = (crop_boxes or {}).get(i)
                feats[i] = self.extract_unscaled_feat(crop(scaled, box) if box else scaled)
            return feats
        return self.extract_unscaled_feat(self._resize(img, self.feature_scale))

    def multi_scale_features(self, img, hr_crop_box=None):
        """[HR features (cropped, sliding windows or whole), LR features], encoded LR first."""
        feats = [None] * len(self.scales)
        for i in self.lr_first_scale_indices():
            scaled = self.scaled_input(img, self.scales[i])
            if i == 0 and hr_crop_box is not None:
                feats[i] = self.extract_unscaled_feat(crop(scaled, hr_crop_box))
            elif i == 0 and self.hr_slide_inference and self.hr_crop_size is not None:
                feats[i] = self.extract_slide_feat(scaled)
            else:
                feats[i] = self.extract_unscaled_feat(scaled)
        return feats

    def encode_decode(self, img, img_metas, upscale_pred=True):
        """Fused logits N×C×H×W (HR by sliding windows over the whole image)."""
        self.decode_head.debug_output = {}
        out = self._decode_head_forward_test(self.multi_scale_features(img), img_metas)
        if upscale_pred:
            out = resize(out, size=img.shape[2:], mode='bilinear',
                         align_corners=self.align_corners)
        return out

    def generate_pseudo_label(self, img, img_metas):
        return self.encode_decode(img, img_metas)

    def forward_train(self, img, img_metas, gt_semantic_seg, seg_weight=None,
                      return_feat=False):
        """Training with a random detail crop. Returns losses (+ ``features`` of
        ``feature_scale``, or of every scale for 'all')."""
        self.last_train_crop_box = {}
        box = None
        if self.hr_crop_size is not None:
            box = get_crop_bbox(*img.shape[-2:], self.hr_crop_size, self.crop_coord_divisible)
            self.decode_head.set_hr_crop_box(box)
            self.last_train_crop_box[0] = box
        feats = self.multi_scale_features(img, hr_crop_box=box)
        losses = dict()
        if return_feat:
            if self.feature_scale in FEATURE_SCALE_ALL:
                losses['features'] = feats
            else:
                losses['features'] = feats[self.scales.index(self.feature_scale)]
        losses.update(self._decode_head_forward_train(feats, img_metas, gt_semantic_seg,
                                                      seg_weight))
        if self.with_auxiliary_head:
            raise ValueError('HRDAEncoderDecoder does not support auxiliary heads')
        return losses

    def debug_panels(self, snapshot, prefix):
        """Fused, context (LR) and detail (HR crop) predictions and the scale attention of
        a training forward pass (``snapshot = debug_snapshot()``)."""
        panels = super().debug_panels(snapshot, f'{prefix} Fused')
        if 'lr_logits' in snapshot:
            panels += [(f'{prefix} LR', 'label', snapshot['lr_logits'].argmax(1)),
                       (f'{prefix} HR', 'label', snapshot['hr_logits'].argmax(1))]
        if torch.is_tensor(snapshot.get('attention')):
            panels.append((f'{prefix} Scale Att.', 'map', snapshot['attention'].mean(1)))
        return panels

    def inference(self, img, img_meta, rescale):
        """Softmax probabilities, or the raw attention map with ``debug_output_attention``."""
        if not self.decode_head.debug_output_attention:
            return super().inference(img, img_meta, rescale)
        mode = self.test_cfg.get('mode', 'whole')
        if mode == 'slide':
            return self.slide_inference(img, img_meta, rescale)
        return self.whole_inference(img, img_meta, rescale)

    def simple_test(self, img, img_meta, rescale=True):
        if self.decode_head.debug_output_attention:
            return list(self.inference(img, img_meta, rescale)[:, 0].cpu().numpy())
        return super().simple_test(img, img_meta, rescale)
