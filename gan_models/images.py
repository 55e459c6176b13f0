"""Writing images people look at: sample grids, one file per image, animated walks and overview sheets.

Every file is written to a temporary name and renamed, so a reader never sees half an image.
"""
import os
from pathlib import Path

import torch

from gan_models.atomic import atomic_write
from gan_models.data import to_uint8


def image_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> torch.Tensor:
    """Tile images (N, C, H, W), float in [-1, 1] or uint8, into one uint8 (3, H', W') grid, `nrow` per row.

    The same pixels as torchvision's make_grid (black padding around every tile, empty cells black,
    one image alone returned unpadded), without importing torchvision, which would add more to a
    training run's start-up than importing torch itself.
    """
    images = images.cpu()
    images = (images if images.dtype == torch.uint8 else to_uint8(images)).expand(-1, 3, -1, -1)
    n, channels, height, width = images.shape
    if n == 1:
        return images[0].clone()
    columns = min(nrow, n)
    rows = -(-n // columns)
    cells = torch.zeros((rows * columns, channels, height + padding, width + padding), dtype=torch.uint8)
    cells[:n, :, padding:, padding:] = images  # each cell: its image after a padding strip above and to the left
    grid = cells.reshape(rows, columns, channels, height + padding, width + padding).permute(2, 0, 3, 1, 4)
    grid = grid.reshape(channels, rows * (height + padding), columns * (width + padding))
    return torch.nn.functional.pad(grid, (0, padding, 0, padding))  # the strips below and right of the last tiles


def save_grid(images: torch.Tensor, path: str | os.PathLike, nrow: int = 8, compress_level: int = 6) -> Path:
    """Save images (N, C, H, W) (float in [-1, 1] or uint8) as one PNG grid, `nrow` per row; returns the path.

    `compress_level` is zlib's, 0 (fastest) to 9 (smallest), as PIL takes it; 6 is PIL's default. The file is
    written to a temporary name and renamed, so a reader never sees half a PNG.
    """
    from PIL import Image

    grid = image_grid(images, nrow=nrow)
    path = Path(path)
    with atomic_write(path) as tmp:
        pixels = grid.permute(1, 2, 0).numpy()  # (H, W, 3)
        Image.fromarray(pixels).save(tmp, format="PNG", compress_level=compress_level)
    return path


IMAGE_FORMATS = {"png": "PNG", "jpg": "JPEG"}  # save_images' formats: file suffix -> PIL format
JPEG_QUALITY = 95  # PIL's default, 75, blurs the strokes of a 28 x 28 digit visibly


def to_pil(images: torch.Tensor) -> list:
    """Images (N, C, H, W), float in [-1, 1] or uint8, as N PIL images: mode "L" for 1 channel, "RGB" for 3."""
    from PIL import Image

    images = images.detach().cpu()
    pixels = images if images.dtype == torch.uint8 else to_uint8(images.float())
    if pixels.dim() != 4 or pixels.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape (N, 1 or 3, H, W), got {tuple(pixels.shape)}")
    arrays = pixels.permute(0, 2, 3, 1).numpy()  # (N, H, W, C)
    return [Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array) for array in arrays]


def save_images(images: torch.Tensor, folder: str | os.PathLike, format: str = "png", start: int = 0) -> list[Path]:
    """Save images (N, C, H, W) (float in [-1, 1] or uint8) one file each: folder/000000.png, 000001.png, ...

    `format` is "png" or "jpg" (quality JPEG_QUALITY); `start` is the number of the first file, so
    batches can go to one folder in turn. The folder is created if needed; returns the paths.
    """
    if format not in IMAGE_FORMATS:
        raise ValueError(f"unknown image format {format!r}; choose one of {list(IMAGE_FORMATS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    options = {"quality": JPEG_QUALITY} if format == "jpg" else {}
    paths = []
    for index, image in enumerate(to_pil(images), start=start):
        path = folder / f"{index:06d}.{format}"
        with atomic_write(path) as tmp:
            image.save(tmp, format=IMAGE_FORMATS[format], **options)
        paths.append(path)
    return paths


def save_gif(frames: torch.Tensor, path: str | os.PathLike, frame_ms: int = 100) -> Path:
    """Save frames (T, C, H, W) (float in [-1, 1] or uint8) as an animated GIF that loops, `frame_ms` per frame.

    Written by Pillow alone (no video library). GIF holds 256 colours a frame: exact for
    grayscale, a per-frame palette for colour. Returns the path.
    """
    if len(frames) < 2:
        raise ValueError(f"an animation needs at least 2 frames, got {len(frames)}")
    first, *rest = to_pil(frames)
    path = Path(path)
    with atomic_write(path) as tmp:
        first.save(tmp, format="GIF", save_all=True, append_images=rest, duration=frame_ms, loop=0)
    return path


def save_sheet(grid_paths: list[Path], titles: list[str], path: str | os.PathLike, columns: int = 5) -> Path:
    """Tile saved grid PNGs into one overview image, each under its title (e.g. one per epoch); returns the path.

    Drawn with PIL alone, so it costs milliseconds per epoch.
    """
    from PIL import Image, ImageDraw

    grids = []
    for grid_path in grid_paths:
        with Image.open(grid_path) as image:
            grids.append(image.convert("RGB"))
    tile_w, tile_h = max(g.width for g in grids), max(g.height for g in grids)
    title_h, gap = 14, 6
    columns = max(1, min(columns, len(grids)))
    rows = -(-len(grids) // columns)
    sheet = Image.new("RGB", (columns * (tile_w + gap) + gap, rows * (tile_h + title_h + gap) + gap), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (grid, title) in enumerate(zip(grids, titles, strict=True)):
        x = gap + (index % columns) * (tile_w + gap)
        y = gap + (index // columns) * (tile_h + title_h + gap)
        draw.text((x, y), title, fill="black")
        sheet.paste(grid, (x, y + title_h))
    path = Path(path)
    with atomic_write(path) as tmp:
        sheet.save(tmp, format="PNG")
    return path
