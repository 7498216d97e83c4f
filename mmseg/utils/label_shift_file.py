"""The ``label_shift.json`` file of Inference Adjustment and Classifier Rectification
(Liu et al., CVPR 2022; SPEC-more-uda.md §1): the source and target label priors P_s, P_t
(K floats each, positive, summing to 1), with the counts they come from.

``tools/estimate_label_shift.py`` writes it; the segmentors' ``test_cfg.label_shift`` and
the ``LabelShiftCR`` wrapper read it through :func:`load_label_shift`.
"""
import json
import math
import os
import os.path as osp

from .checkpoint import replaced_atomically

PRIOR_KEYS = ('source_prior', 'target_prior')
# The priors are written with 8 significant digits; their sums are 1 to this tolerance.
SUM_TOLERANCE = 1e-5


class LabelShiftFileError(ValueError):
    """A label_shift.json that cannot be used (names the file and the key)."""


def load_label_shift(path, num_classes):
    """The validated content of ``path`` (a dict with at least ``source_prior`` and
    ``target_prior``, lists of ``num_classes`` positive floats summing to 1)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'label shift file not found: {path!r} (write it with '
                                'tools/estimate_label_shift.py CONFIG CHECKPOINT --out FILE)')
    try:
        with open(path) as f:
            record = json.load(f)
    except json.JSONDecodeError as err:
        raise LabelShiftFileError(f'{path}: not valid JSON ({err})') from err
    if not isinstance(record, dict):
        raise LabelShiftFileError(f'{path}: expected a JSON object with the keys '
                                  f'{list(PRIOR_KEYS)}, got {type(record).__name__}')
    for key in PRIOR_KEYS:
        check_prior(record.get(key), num_classes, f'{path}: key {key!r}')
    return record


def check_prior(prior, num_classes, where):
    """Raise :class:`LabelShiftFileError` (prefixed by ``where``) unless ``prior`` is a
    list of ``num_classes`` positive finite numbers summing to 1."""
    if prior is None:
        raise LabelShiftFileError(f'{where} is missing (expected {num_classes} class '
                                  'probabilities)')
    if not isinstance(prior, list) or not all(
            isinstance(p, (int, float)) and not isinstance(p, bool) for p in prior):
        raise LabelShiftFileError(f'{where} must be a list of numbers, got {prior!r:.80}')
    if len(prior) != num_classes:
        raise LabelShiftFileError(f'{where} has {len(prior)} classes, expected {num_classes} '
                                  "(the model's num_classes)")
    bad = [(k, p) for k, p in enumerate(prior) if not (math.isfinite(p) and p > 0)]
    if bad:
        raise LabelShiftFileError(f'{where} must be positive and finite; class, value: '
                                  f'{bad[:5]} (a class seen in no image needs a pseudo-count, '
                                  'see --pseudo-count of tools/estimate_label_shift.py)')
    if abs(sum(prior) - 1) > SUM_TOLERANCE:
        raise LabelShiftFileError(f'{where} sums to {sum(prior):.6g}, expected 1 '
                                  '(normalised class probabilities)')


def log_prior_ratio(path, num_classes):
    """log P_t(k) − log P_s(k), K floats: added to the logits it turns the source
    posterior into the target one (IA, SPEC §1.2 step 10); its negation is CR's offset."""
    record = load_label_shift(path, num_classes)
    return [math.log(t) - math.log(s)
            for s, t in zip(record['source_prior'], record['target_prior'])]


def write_label_shift(path, record):
    """Write ``record`` (validated like :func:`load_label_shift`) atomically as JSON."""
    for key in PRIOR_KEYS:
        check_prior(record.get(key), len(record['source_prior']), f'{path}: key {key!r}')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with replaced_atomically(path) as tmp:
        with open(tmp, 'w') as f:
            json.dump(record, f, indent=2)
            f.write('\n')
