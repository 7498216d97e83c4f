from copy import deepcopy

from mmseg.models.builder import build_segmentor
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.models.segmentors.encoder_decoder import add_prefix
from mmseg.models.utils.gradient_sync import average_gradients
from mmseg.models.utils.precision import MixedPrecision

from .masking_consistency_module import MaskingConsistencyModule

# Constructor arguments of the UDA wrappers that configure MIC and its teacher.
MIC_SETTINGS = ('mask_mode', 'mask_alpha', 'mask_pseudo_threshold', 'mask_lambda',
                'mask_generator', 'alpha', 'pseudo_threshold', 'pseudo_weight_ignore_top',
                'pseudo_weight_ignore_bottom')


class UDADecorator(BaseSegmentor):
    """Wraps the student segmentor ``model``; inference is delegated to it.

    Its ``train_step`` does the whole optimisation (zero_grad → ``forward_train``, which
    back-propagates each partial loss as soon as it is computed → step), so UDA configs run
    with ``optimizer_config=None``.
    """

    def __init__(self, model, max_iters=None, train_cfg=None, test_cfg=None, init_cfg=None):
        super().__init__(init_cfg)
        model = deepcopy(model)
        if train_cfg is not None:
            model['train_cfg'] = train_cfg
        if test_cfg is not None:
            model['test_cfg'] = test_cfg
        self.model = build_segmentor(model)
        self.model_cfg = model
        self.max_iters = max_iters
        self.train_cfg = model.get('train_cfg') or {}
        self.test_cfg = model.get('test_cfg')
        self.num_classes = self.model.num_classes
        self.local_iter = 0
        self.precision = MixedPrecision()
        # optimization.fused_source_backward (set by apply_optimization)
        self.fused_source_backward = False

    def set_mixed_precision(self, enabled=False, dtype='bfloat16'):
        """Autocast the forward passes (student, teachers, ImageNet copy)."""
        self.precision = MixedPrecision(enabled, dtype)
        for teacher in self.teachers():
            teacher.autocast = self.autocast

    def build_mic(self, settings, strong_transform, source_only=False, host_has_teacher=True):
        """The MIC module when ``settings['mask_mode']`` is set, else None.

        settings: the wrapper's constructor arguments (at least ``MIC_SETTINGS``).
        """
        if settings['mask_mode'] is None:
            return None
        return MaskingConsistencyModule(
            self.model_cfg, strong_transform=strong_transform, source_only=source_only,
            host_has_teacher=host_has_teacher, **{k: settings[k] for k in MIC_SETTINGS})

    def teachers(self):
        """Every EMA teacher of this wrapper (DACS's and MIC's own)."""
        found = [getattr(self, 'teacher', None)]
        mic = getattr(self, 'mic', None)
        if mic is not None:
            found.append(mic.teacher)
        return [t for t in found if t is not None]

    def autocast(self):
        device = next(self.get_model().parameters()).device
        return self.precision.autocast(device)

    def _backward(self, losses, prefix=None, retain_graph=False):
        """Sum the loss terms, back-propagate now (frees the graph), return their log."""
        if prefix:
            losses = add_prefix(losses, prefix)
        loss, log_vars = self._parse_losses(losses)
        log_vars.pop('loss', None)
        self.precision.backward(loss, retain_graph=retain_graph)
        return log_vars

    def train_source_ce(self, img, img_metas, gt_semantic_seg, retain_graph=False):
        """Supervised source step: CE, backward. Returns (log_vars, backbone features)."""
        with self.autocast():
            losses = self.get_model().forward_train(img, img_metas, gt_semantic_seg,
                                                    return_feat=True)
        features = losses.pop('features')
        return self._backward(losses, retain_graph=retain_graph), features

    def train_masked(self, img, img_metas, gt_semantic_seg, target_img, target_img_metas,
                     valid_pseudo_mask=None, pseudo_label=None, pseudo_weight=None):
        """MIC step: the student's loss on the masked images, back-propagated now.
        Returns its log (``masked.*``)."""
        with self.autocast():
            losses = self.mic(self.get_model(), img, img_metas, gt_semantic_seg, target_img,
                              target_img_metas, valid_pseudo_mask, pseudo_label, pseudo_weight)
        return self._backward(losses, 'masked')

    def get_model(self):
        """The student (unwrapped from DDP if needed)."""
        return getattr(self.model, 'module', self.model)

    def extract_feat(self, img):
        return self.get_model().extract_feat(img)

    def encode_decode(self, img, img_metas, **kwargs):
        return self.get_model().encode_decode(img, img_metas, **kwargs)

    def forward_train(self, img, img_metas, gt_semantic_seg, target_img=None,
                      target_img_metas=None, **kwargs):
        return self.get_model().forward_train(img, img_metas, gt_semantic_seg)

    def inference(self, img, img_meta, rescale):
        return self.get_model().inference(img, img_meta, rescale)

    def simple_test(self, img, img_meta, rescale=True):
        return self.get_model().simple_test(img, img_meta, rescale)

    def aug_test(self, imgs, img_metas, rescale=True):
        return self.get_model().aug_test(imgs, img_metas, rescale)

    def train_step(self, data_batch, optimizer, **kwargs):
        """zero_grad → forward_train (backward inside) → step.

        Distributed, the student's gradients are averaged over the ranks before the step.
        Returns ``dict(log_vars, num_samples)``; no 'loss' (nothing left to back-propagate).
        """
        optimizer.zero_grad()
        buffers = self.buffers_before_step()
        log_vars = self(**data_batch)
        if not self.losses_are_finite(log_vars, self.local_iter, buffers):
            optimizer.zero_grad(set_to_none=True)
            return dict(log_vars=log_vars, num_samples=len(data_batch['img_metas']))
        average_gradients(self.get_model())  # no-op unless distributed
        self.precision.step(optimizer)
        log_vars.pop('loss', None)
        return dict(log_vars=log_vars, num_samples=len(data_batch['img_metas']))
