"""Writing images people look at: sample grids as PNG files."""
import os
from pathlib import Path

import torch
from torchvision.utils import make_grid

from gan_models.data import to_uint8


def image_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> torch.Tensor:
    """Tile float images (N, C, H, W) in [-1, 1] into one uint8 (C, H', W') grid, `nrow` images per row."""
    return make_grid(to_uint8(images.cpu()), nrow=nrow, padding=padding)


def save_grid(images: torch.Tensor, path: str | os.PathLike, nrow: int = 8) -> Path:
    """Save images (N, C, H, W) in [-1, 1] as one PNG grid with `nrow` images per row; returns the path.

    The file is written to a temporary name and renamed, so a reader never sees half a PNG.
    """
    from PIL import Image

    grid = image_grid(images, nrow=nrow)
    array = grid.permute(1, 2, 0).numpy()  # (H, W, C)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path
