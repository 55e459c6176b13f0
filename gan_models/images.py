"""Writing images people look at: sample grids and overview sheets as PNG files (written atomically)."""
import os
from pathlib import Path

import torch
from torchvision.utils import make_grid

from gan_models.data import to_uint8


def image_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> torch.Tensor:
    """Tile images (N, C, H, W), float in [-1, 1] or uint8, into one uint8 (3, H', W') grid, `nrow` per row."""
    images = images.cpu()
    return make_grid(images if images.dtype == torch.uint8 else to_uint8(images), nrow=nrow, padding=padding)


def save_grid(images: torch.Tensor, path: str | os.PathLike, nrow: int = 8) -> Path:
    """Save images (N, C, H, W) (float in [-1, 1] or uint8) as one PNG grid, `nrow` per row; returns the path.

    The file is written to a temporary name and renamed, so a reader never sees half a PNG.
    """
    from PIL import Image

    grid = image_grid(images, nrow=nrow)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    Image.fromarray(grid.permute(1, 2, 0).numpy()).save(tmp, format="PNG")  # (H, W, 3): make_grid makes 3 channels
    os.replace(tmp, path)
    return path


def save_sheet(grid_paths: list[Path], titles: list[str], path: str | os.PathLike, columns: int = 5) -> Path:
    """Tile saved grid PNGs into one titled overview image (e.g. one tile per epoch); returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    columns = max(1, min(columns, len(grid_paths)))
    rows = -(-len(grid_paths) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, grid_path, title in zip(axes.flat, grid_paths, titles):
        with Image.open(grid_path) as image:
            ax.imshow(image)
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path
