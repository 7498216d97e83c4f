"""Bad inputs fail early with a message naming the culprit and the way out."""
import numpy as np
import pytest

from mmseg.datasets import CityscapesDataset, GTADataset, build_dataset

from conftest import write_image, write_label

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg'], meta_keys=['filename']),
]


def gta(root, **kwargs):
    return GTADataset(pipeline=PIPELINE, data_root=str(root), img_dir='images',
                      ann_dir='labels', **kwargs)


def make_gta(root, n=2, label_value=0):
    for i in range(n):
        write_image(root / 'images' / f'{i:05d}.png', np.zeros((4, 8, 3), np.uint8))
        write_label(root / 'labels' / f'{i:05d}_labelTrainIds.png',
                    np.full((4, 8), label_value, np.uint8))


def test_missing_data_root_names_path_and_layout(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        gta(tmp_path / 'nowhere')
    msg = str(err.value)
    assert 'nowhere' in msg and 'images/*.png' in msg
    assert 'tools/convert_datasets/gta.py' in msg


def test_missing_image_folder(tmp_path):
    (tmp_path / 'cityscapes').mkdir()
    with pytest.raises(FileNotFoundError) as err:
        CityscapesDataset(pipeline=PIPELINE, data_root=str(tmp_path / 'cityscapes'),
                          img_dir='leftImg8bit/val', ann_dir='gtFine/val')
    assert 'leftImg8bit/val' in str(err.value) and '_leftImg8bit.png' in str(err.value)


def test_folder_without_images(tmp_path):
    (tmp_path / 'images').mkdir()
    with pytest.raises(FileNotFoundError, match=r"no images ending in '\.png'"):
        gta(tmp_path)


def test_image_without_label_names_both(tmp_path):
    make_gta(tmp_path)
    (tmp_path / 'labels' / '00001_labelTrainIds.png').unlink()
    write_label(tmp_path / 'labels' / '00001.png', np.zeros((4, 8), np.uint8))  # raw ids only
    with pytest.raises(FileNotFoundError) as err:
        gta(tmp_path)
    msg = str(err.value)
    assert 'images/00001.png' in msg and 'labels/00001_labelTrainIds.png' in msg
    assert 'tools/convert_datasets/gta.py' in msg


def test_label_count_mismatch(tmp_path):
    make_gta(tmp_path, n=3)
    (tmp_path / 'images' / '00002.png').unlink()
    with pytest.raises(ValueError) as err:
        gta(tmp_path)
    msg = str(err.value)
    assert '3 label files' in msg and '2 images' in msg and '00002_labelTrainIds.png' in msg


def test_split_file_lists_missing_image(tmp_path):
    make_gta(tmp_path)
    (tmp_path / 'split.txt').write_text('00000\n00009\n')
    with pytest.raises(FileNotFoundError, match='00009.png'):
        gta(tmp_path, split='split.txt')
    with pytest.raises(FileNotFoundError, match='nosplit.txt'):
        gta(tmp_path, split='nosplit.txt')


def test_raw_label_ids_are_refused_with_converter_hint(tmp_path):
    make_gta(tmp_path, label_value=26)  # Cityscapes label id of 'car', trainId 13
    dataset = gta(tmp_path)
    with pytest.raises(ValueError) as err:
        dataset[0]
    msg = str(err.value)
    assert '00000_labelTrainIds.png' in msg and '[26]' in msg and '[0, 18]' in msg
    assert 'tools/convert_datasets/gta.py' in msg
    with pytest.raises(ValueError, match='00001_labelTrainIds.png'):
        dataset.get_gt_seg_map_by_idx(1)


def test_ignore_index_is_accepted(tmp_path):
    make_gta(tmp_path, label_value=255)
    assert (gta(tmp_path)[0]['gt_semantic_seg'].data == 255).all()


def test_corrupt_image_names_file(tmp_path):
    make_gta(tmp_path)
    path = tmp_path / 'images' / '00001.png'
    path.write_bytes(path.read_bytes()[:40])  # truncated
    dataset = gta(tmp_path)
    with pytest.raises(OSError, match='00001.png'):
        dataset[1]
    (tmp_path / 'labels' / '00000_labelTrainIds.png').write_bytes(b'not a png')
    with pytest.raises(OSError, match='00000_labelTrainIds.png'):
        dataset[0]


def test_label_deleted_after_listing(tmp_path):
    make_gta(tmp_path)
    dataset = gta(tmp_path)
    (tmp_path / 'labels' / '00000_labelTrainIds.png').unlink()
    with pytest.raises(FileNotFoundError) as err:
        dataset[0]
    assert '00000_labelTrainIds.png' in str(err.value) and '00000.png' in str(err.value)


def test_unknown_dataset_key_suggests(tmp_path):
    make_gta(tmp_path)
    with pytest.raises(TypeError, match="'ann_dir'"):
        build_dataset(dict(type='GTADataset', pipeline=PIPELINE, data_root=str(tmp_path),
                           img_dir='images', ann_dirr='labels'))
