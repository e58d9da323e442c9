"""Shared checks of written figures: the PNG is a drawn image of the expected size."""

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
