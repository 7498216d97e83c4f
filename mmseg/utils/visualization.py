"""Drawing segmentation maps: palette colouring, overlays and a class legend.

Images are BGR ``uint8`` arrays (OpenCV / mmcv convention); palettes are RGB, one
``[r, g, b]`` per class id, as in the datasets' ``PALETTE``.
"""
import cv2
import numpy as np


def random_palette(num_classes):
    """Fixed pseudo-random colours (seed 42; the global RNG is left alone) for classes
    that come without a palette: every tool draws them alike."""
    return np.random.RandomState(42).randint(0, 255, size=(num_classes, 3))


def colorize(seg, palette):
    """Class-id map H×W → RGB image H×W×3 (uint8); ids outside the palette (e.g. the
    ignore index 255) stay black."""
    palette = np.asarray(palette, dtype=np.uint8)
    if palette.ndim != 2 or palette.shape[1] != 3:
        raise ValueError(f'palette must have shape (num_classes, 3), got {palette.shape}')
    seg = np.asarray(seg)
    color = np.zeros(seg.shape + (3,), dtype=np.uint8)
    valid = (seg >= 0) & (seg < len(palette))
    color[valid] = palette[seg[valid].astype(np.int64)]
    return color


def draw_segmentation(img, seg, palette, opacity=0.5):
    """Blend the coloured ``seg`` (H×W class ids) over ``img`` (H×W×3 BGR).

    ``opacity=1`` gives the pure colour map (what ``test.sh`` writes), ``0`` the image.
    Returns a new BGR uint8 image.
    """
    if not 0 <= opacity <= 1:
        raise ValueError(f'opacity must be in [0, 1], got {opacity}')
    seg = np.asarray(seg)
    if img.shape[:2] != seg.shape:
        raise ValueError(f'image {img.shape[:2]} and segmentation {seg.shape} sizes differ')
    color_bgr = colorize(seg, palette)[..., ::-1]
    blended = img.astype(np.float32) * (1 - opacity) + color_bgr.astype(np.float32) * opacity
    return blended.astype(np.uint8)


def draw_heatmap(values, colormap=cv2.COLORMAP_VIRIDIS):
    """Map H×W floats in [0, 1] (e.g. HRDA's scale attention) to a BGR heat map."""
    scaled = np.clip(np.asarray(values, dtype=np.float32), 0, 1) * 255
    return cv2.applyColorMap(scaled.astype(np.uint8), colormap)


def add_legend(img, classes, palette, class_ids=None, row_height=18):
    """Append a legend panel (colour swatch + class name per row) right of ``img`` (BGR).

    Args:
        class_ids (Iterable[int] | None): the classes to list (e.g. those present in the
            prediction); all classes when None.
    Returns:
        BGR uint8 image, at least as tall as the legend.
    """
    if class_ids is None:
        class_ids = range(len(classes))
    class_ids = [int(c) for c in class_ids if 0 <= int(c) < len(classes)]
    font, scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, row_height / 36, 1
    text_w = max([cv2.getTextSize(str(classes[c]), font, scale, thickness)[0][0]
                  for c in class_ids] + [0])
    swatch, margin = row_height - 4, 6
    panel_w = margin * 3 + swatch + text_w
    height = max(img.shape[0], margin * 2 + row_height * len(class_ids))
    canvas = np.full((height, img.shape[1] + panel_w, 3), 255, dtype=np.uint8)
    canvas[:img.shape[0], :img.shape[1]] = img
    x0 = img.shape[1] + margin
    for row, cls in enumerate(class_ids):
        y0 = margin + row * row_height
        b, g, r = (int(v) for v in np.asarray(palette[cls])[::-1])
        cv2.rectangle(canvas, (x0, y0), (x0 + swatch, y0 + swatch), (b, g, r), -1)
        cv2.rectangle(canvas, (x0, y0), (x0 + swatch, y0 + swatch), (0, 0, 0), 1)
        cv2.putText(canvas, str(classes[cls]), (x0 + swatch + margin, y0 + swatch - 3), font,
                    scale, (0, 0, 0), thickness, cv2.LINE_AA)
    return canvas
