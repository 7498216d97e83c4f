import torch

from mmseg.models.builder import UDA
from mmseg.models.segmentors.encoder_decoder import add_prefix
from mmseg.models.utils.precision import at_least_float32
from mmseg.ops import resize

from .discriminator_step import DiscriminatorStep
from .pixel_discriminator import PixelDiscriminator, soft_domain_label, soft_label_loss
from .uda_decorator import UDADecorator

SOURCE, TARGET = 0, 1


def capped_soft_label(scaled_logits, cap):
    """a = softmax(logits / T), entries above ``cap`` set to ``cap``, not renormalised
    (SPEC-more-uda.md §1.2 step 3). scaled_logits: N×K×H×W (already divided by T)."""
    return torch.softmax(scaled_logits.detach(), dim=1).clamp(max=cap)


@UDA.register_module()
class CondAdvSeg(DiscriminatorStep, UDADecorator):
    """Class-conditional adversarial feature alignment (FADA, Wang et al. ECCV 2020), the
    alignment stage of "Undoing the Damage of Label Shift" (Liu et al., CVPR 2022; spec §1.2
    steps 1-6).

    One iteration: source CE on logits / ``temperature``; the target backbone features
    ``f_t`` (stage ``disc_feature``) are pushed towards the *source* half of a
    :class:`PixelDiscriminator`, weighted by the capped soft labels of the target
    prediction (``lambda_adv``); the discriminator (its own Adam, ``lr_D`` with poly
    decay) learns [a_s, 0] on the source features and [0, a_t] on the target ones.
    Single-scale segmentors only (EncoderDecoder: DeepLabV2, DAFormer).
    """

    def __init__(self, model, temperature=1.8, soft_label_cap=0.9, lambda_adv=0.001,
                 lr_D=1e-4, lr_D_power=0.9, lr_D_min=0, disc_mid=256, disc_feature=-1,
                 max_iters=None, train_cfg=None, test_cfg=None, init_cfg=None):
        super().__init__(model, max_iters, train_cfg, test_cfg, init_cfg)
        if type(self.model).__name__ != 'EncoderDecoder':
            raise ValueError('CondAdvSeg: uda.model must be an EncoderDecoder (single-scale), '
                             f'got {type(self.model).__name__}')
        if temperature <= 0 or not 0 < soft_label_cap <= 1:
            raise ValueError('CondAdvSeg: expected uda.temperature > 0 and 0 < '
                             f'uda.soft_label_cap <= 1, got {temperature}, {soft_label_cap}')
        self.temperature, self.soft_label_cap = temperature, soft_label_cap
        self.lambda_adv, self.disc_feature = lambda_adv, disc_feature
        self.model_D = PixelDiscriminator(self.feature_channels(disc_feature),
                                          self.num_classes, ndf=disc_mid)
        self.init_discriminator_optimizer(lr_D, lr_D_power, lr_D_min)

    def feature_channels(self, index):
        """Channels of backbone stage ``index`` (from the decode head's ``in_channels``)."""
        channels = self.model.decode_head.in_channels
        if isinstance(channels, (list, tuple)):
            return channels[index]
        in_index = self.model.decode_head.in_index
        if index not in (-1, in_index):
            raise ValueError(f'CondAdvSeg: uda.disc_feature={index}, but the decode head '
                             f'only reads backbone stage {in_index}; use -1 or {in_index}')
        return channels

    def segment(self, img):
        """Backbone feature of stage ``disc_feature`` (N×C×h×w) and the logits / T,
        resized to the input (N×K×H×W, at least float32)."""
        student = self.get_model()
        with self.autocast():
            feats = student.extract_feat(img)
            logits = student.decode_head(feats)
        scaled = resize(at_least_float32(logits), size=img.shape[2:], mode='bilinear',
                        align_corners=student.align_corners) / self.temperature
        return at_least_float32(feats[self.disc_feature]), scaled

    def train_source(self, img, gt_semantic_seg):
        """L_seg = CE(logits_s / T, y_s) (step 2), backward. → (log, f_s, a_s)."""
        feature, scaled = self.segment(img)
        losses = add_prefix(self.get_model().decode_head.losses(scaled, gt_semantic_seg),
                            'decode')
        return self._backward(losses), feature, capped_soft_label(scaled, self.soft_label_cap)

    def train_target(self, target_img):
        """0.001·ℓ(D(f_t), [a_t, 0]) with D frozen (step 5), backward. → (log, f_t, a_t)."""
        feature, scaled = self.segment(target_img)
        soft = capped_soft_label(scaled, self.soft_label_cap)
        self.model_D.requires_grad_(False)
        d_out = self.model_D(feature, size=target_img.shape[2:])
        adv = self.lambda_adv * soft_label_loss(d_out, soft_domain_label(soft, SOURCE))
        log_vars = self._backward({'loss_adv': adv}, 'trg')
        self.model_D.requires_grad_(True)
        return log_vars, feature, soft

    def train_discriminator(self, source, target):
        """0.5·ℓ(D(f_s), [a_s, 0]) + 0.5·ℓ(D(f_t), [0, a_t]) on detached features (step 6).
        source, target: (feature, soft label, image size)."""
        loss = 0
        for domain, (feature, soft, size) in ((SOURCE, source), (TARGET, target)):
            d_out = self.model_D(feature.detach(), size=size)
            loss = loss + 0.5 * soft_label_loss(d_out, soft_domain_label(soft, domain))
        return self._backward({'loss_d': loss}, 'D')

    def forward_train(self, img, img_metas, gt_semantic_seg, target_img, target_img_metas,
                      rare_class=None, valid_pseudo_mask=None):
        log_vars, src_feature, src_soft = self.train_source(img, gt_semantic_seg)
        trg_log, trg_feature, trg_soft = self.train_target(target_img)
        log_vars.update(trg_log)
        log_vars.update(self.train_discriminator((src_feature, src_soft, img.shape[2:]),
                                                 (trg_feature, trg_soft, target_img.shape[2:])))
        self.local_iter += 1
        return log_vars
