"""``mmseg.utils.visualization``: palette colouring, overlays, legend."""
import numpy as np
import pytest

from mmseg.utils.visualization import add_legend, colorize, draw_heatmap, draw_segmentation

PALETTE = [[255, 0, 0], [0, 255, 0], [0, 0, 255]]


def test_colorize_uses_palette_and_leaves_ignore_black():
    seg = np.array([[0, 1], [2, 255]])
    color = colorize(seg, PALETTE)
    assert color.dtype == np.uint8
    assert color[0, 0].tolist() == [255, 0, 0] and color[1, 0].tolist() == [0, 0, 255]
    assert color[1, 1].tolist() == [0, 0, 0]


def test_draw_segmentation_blends_bgr():
    img = np.full((2, 2, 3), 100, np.uint8)
    seg = np.zeros((2, 2), np.int64)
    assert draw_segmentation(img, seg, PALETTE, opacity=1)[0, 0].tolist() == [0, 0, 255]
    half = draw_segmentation(img, seg, PALETTE, opacity=0.5)[0, 0].tolist()
    assert half == [50, 50, 177]
    assert np.array_equal(draw_segmentation(img, seg, PALETTE, opacity=0), img)


def test_draw_segmentation_rejects_bad_input():
    img = np.zeros((2, 2, 3), np.uint8)
    with pytest.raises(ValueError, match='sizes differ'):
        draw_segmentation(img, np.zeros((3, 2), np.int64), PALETTE)
    with pytest.raises(ValueError, match='opacity'):
        draw_segmentation(img, np.zeros((2, 2), np.int64), PALETTE, opacity=2)


def test_add_legend_appends_panel_tall_enough():
    img = np.zeros((20, 30, 3), np.uint8)
    out = add_legend(img, ['road', 'sidewalk', 'building'], PALETTE, row_height=18)
    assert out.shape[1] > 30 and out.shape[0] >= 3 * 18
    assert np.array_equal(out[:20, :30], img)
    # the swatch of the first class holds its colour (BGR)
    assert (out[:out.shape[0], 30:] == [0, 0, 255]).all(axis=-1).any()


def test_draw_heatmap_shape():
    heat = draw_heatmap(np.linspace(0, 1, 12).reshape(3, 4))
    assert heat.shape == (3, 4, 3) and heat.dtype == np.uint8
