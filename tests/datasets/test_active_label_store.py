"""The active label store: rounds become visible only when complete, training reads the
rounds in use, LoadActiveAnnotations never reads the ground truth."""
import numpy as np
import pytest

from mmseg.datasets.active_label_store import ActiveLabelStore, image_key
from mmseg.datasets.pipelines import LoadActiveAnnotations


def add_round(store, r, key, pixels, label):
    selected = np.zeros((4, 6), bool)
    for y, x in pixels:
        selected[y, x] = True
    labels = np.where(selected, label, 255).astype(np.uint8)
    writer = store.begin_round(r)
    writer.add(key, selected, selected, labels)
    return writer


def test_rounds_in_use_and_unfinished_rounds(tmp_path):
    store = ActiveLabelStore(str(tmp_path / 'active_labels'))
    key = image_key('aachen/a_leftImg8bit.png')
    assert key == 'aachen__a_leftImg8bit'
    add_round(store, 1, key, [(0, 0)], 3).publish(dict(iteration=2))
    unfinished = add_round(store, 2, key, [(1, 1)], 5)
    assert [m['round'] for m in store.rounds()] == [1]  # round 2 not published
    assert store.remove_unfinished() == [unfinished.tmp]
    add_round(store, 2, key, [(1, 1)], 5).publish(dict(iteration=4))
    with pytest.raises(ValueError, match='round 4 follows round 2'):
        store.begin_round(4)

    loader = LoadActiveAnnotations(store.root)
    results = dict(img_info=dict(filename='aachen/a_leftImg8bit.png'),
                   img=np.zeros((4, 6, 3), np.uint8))
    assert (loader(dict(results))['gt_semantic_seg'] == 255).all()  # no round in use yet
    store.set_rounds_in_use(1)
    gt = loader(dict(results))['gt_semantic_seg']
    assert gt[0, 0] == 3 and (gt == 255).sum() == 23
    store.set_rounds_in_use(2)
    out = loader(dict(results))
    assert out['gt_semantic_seg'][1, 1] == 5 and 'gt_semantic_seg' in out['seg_fields']
    assert store.active(key, (4, 6), 1).sum() == 1 and store.active(key, (4, 6), 2).sum() == 2


def test_loader_without_store_dir_names_the_fix():
    with pytest.raises(ValueError, match='store_dir is not set'):
        LoadActiveAnnotations()(dict(img=np.zeros((2, 2, 3))))
