"""Shared checks of figures: PNGs of the expected size, text that does not overlap."""

from __future__ import annotations

import numpy as np
from matplotlib.image import imread


def png_shape(path) -> tuple[int, int]:
    """(height, width) in pixels of a PNG that is not a blank canvas."""
    image = imread(path)  # raises on anything that is not a readable image
    assert image[..., :3].std() > 0.01, f"{path} is blank"
    return image.shape[:2]


def assert_png_of(fig, path) -> None:
    """``path`` holds a drawn image of ``fig``'s size (inches x dpi, truncated by the canvas)."""
    width, height = fig.get_size_inches() * fig.dpi
    assert np.allclose(png_shape(path), (height, width), atol=1)


def draw(fig) -> None:
    """Lay out and render ``fig`` on its canvas, so that text extents are final."""
    fig.canvas.draw()


def offsets_on_labels(fig) -> list[str]:
    """Axis labels of a drawn ``fig`` that a visible offset text (``1e7``) overlaps."""
    renderer = fig.canvas.get_renderer()
    found = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            offset, label = axis.get_offset_text(), axis.label
            if not (offset.get_visible() and offset.get_text() and label.get_visible()
                    and label.get_text()):
                continue
            if offset.get_window_extent(renderer).overlaps(label.get_window_extent(renderer)):
                found.append(label.get_text())
    return found


def overlap_share(texts, renderer) -> float:
    """Share of ``texts`` whose bounding box overlaps that of another one (0 for none)."""
    boxes = np.array([t.get_window_extent(renderer).extents for t in texts])  # x0 y0 x1 y1
    if len(boxes) < 2:
        return 0.0
    x0, y0, x1, y1 = (boxes[:, i] for i in range(4))
    hit = ((x0[:, None] < x1[None, :]) & (x0[None, :] < x1[:, None])
           & (y0[:, None] < y1[None, :]) & (y0[None, :] < y1[:, None]))
    np.fill_diagonal(hit, False)
    return float(hit.any(axis=1).mean())
