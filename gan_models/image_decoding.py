"""One image, a PIL image or a file, to a uint8 tensor (C, H, W): transparency onto white, centre-crop, resize.

Resizing is never silent: inside `recording_resizes()`, every image resized here (or counted with
`note_resize`, as gan_models.data does for whole MNIST batches) is tallied by its source size, and the
log's `summary` says so in one line ("resized 300 folder images of 96 x 64 to 64 x 64 (centre crop)").

Images with transparency (RGBA, LA, PA, palette or RGB/L with a transparent colour) are composited
onto white before anything else: converting them straight to RGB would drop the alpha and keep
whatever colour the file happens to store under transparent pixels, and resizing first would blend
that colour into the edges. A file whose header claims more than MAX_PIXELS pixels is refused
before it is decoded. torch and numpy are imported in the functions, so that importing this module
(through gan_models.data) stays cheap for the command line's --help.
"""
from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    import torch

# PIL's default decompression-bomb limit (a 9459 x 9459 image): decoding more takes gigabytes for an image
# that becomes 64 x 64 at most. PIL itself only warns, without naming the file, below twice this.
MAX_PIXELS = 89_478_485


class ResizeLog:
    """The images resized while `recording_resizes()` was active: counts by (width, height, size), source to target."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[int, int, int]] = Counter()

    def __bool__(self) -> bool:
        return bool(self.counts)

    def summary(self, what: str = "images", total: int | None = None) -> str:
        """One line on what was resized, e.g. "resized 300 of 310 folder images of 96 x 64 to 64 x 64 (centre crop)".

        `what` names the images ("mnist images"); `total`, the number loaded, is said when more than were resized.
        Several source sizes are listed by count, the three commonest by name; "(centre crop)" marks non-square
        sources, whose largest centred square was kept.
        """
        parts = []
        for size in sorted({size for _, _, size in self.counts}):
            sources = Counter({(w, h): n for (w, h, s), n in self.counts.items() if s == size}).most_common()
            resized = sum(n for _, n in sources)
            if len(sources) == 1:
                shapes = f"of {sources[0][0][0]} x {sources[0][0][1]}"
            else:
                listed = ", ".join(f"{n:,} of {w} x {h}" for (w, h), n in sources[:3])
                more = f", {len(sources) - 3} more sizes" if len(sources) > 3 else ""
                shapes = f"of {len(sources)} sizes ({listed}{more})"
            cropped = sum(n for (w, h), n in sources if w != h)
            crop = ("" if not cropped else " (centre crop)" if cropped == resized
                    else f" ({cropped:,} not square: centre crop)")
            count = f"{resized:,} of {total:,}" if total is not None and total > resized else f"{resized:,}"
            parts.append(f"{count} {what} {shapes} to {size} x {size}{crop}")
        return "resized " + "; ".join(parts)


_RESIZES: ContextVar[ResizeLog | None] = ContextVar("gan_models_resizes", default=None)


@contextmanager
def recording_resizes() -> Iterator[ResizeLog]:
    """A block whose resized images (by this module, or counted with `note_resize`) are tallied in the ResizeLog."""
    log = ResizeLog()
    token = _RESIZES.set(log)
    try:
        yield log
    finally:
        _RESIZES.reset(token)


def note_resize(width: int, height: int, size: int, count: int = 1) -> None:
    """Count `count` images of width x height resized to size x size in the recording ResizeLog, if there is one."""
    log = _RESIZES.get()
    if log is not None:
        log.counts[width, height, size] += count


def center_crop_resize(image: Image.Image, size: int) -> Image.Image:
    """Crop the largest centred square, then resize it to size x size (counted by `note_resize`)."""
    from torchvision.transforms import functional as TF

    note_resize(*image.size, size)
    side = min(image.size)
    return TF.resize(TF.center_crop(image, [side, side]), [size, size], antialias=True)


def has_transparency(image: Image.Image) -> bool:
    """Whether some pixels of `image` may be (partly) transparent: an alpha band or a transparent colour."""
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def composite_on_white(image: Image.Image, channels: int) -> Image.Image:
    """`image` over a white background as an "L" (channels 1) or "RGB" (channels 3) image.

    In RGB, each channel value c with alpha a (0..255) becomes round((c * a + 255 * (255 - a)) / 255),
    in integers: a = 255 keeps c, a = 0 gives 255 whatever colour the file stores there; "L" is PIL's
    grayscale of that RGB image. Images without transparency are only converted.
    """
    import numpy as np

    mode = "L" if channels == 1 else "RGB"
    if image.mode == "I" or image.mode.startswith("I;16"):
        # 16-bit grayscale (Pillow opens such PNGs as I;16, older versions as I): PIL's convert to L or RGB
        # clips (or wraps) values above 255 instead of scaling them, so map 0..65535 onto 0..255 first.
        image = image.convert("I").point(lambda v: v / 257 + 0.5)
    if not has_transparency(image):
        return image.convert(mode)
    # A palette's transparent index (or an RGB/L transparent colour) becomes alpha 0 in this conversion.
    pixels = np.asarray(image.convert("RGBA"), dtype=np.uint16)  # (H, W, 4); the sums below stay under 65,536
    colour, alpha = pixels[..., :3], pixels[..., 3:]
    blended = (colour * alpha + 255 * (255 - alpha) + 127) // 255  # round half up, exact in integers
    return Image.fromarray(blended.astype(np.uint8), "RGB").convert(mode)


def pil_to_uint8(image: Image.Image, channels: int) -> torch.Tensor:
    """A PIL image as a uint8 (C, H, W) tensor with `channels` 1 (grayscale) or 3 (RGB), transparency on white."""
    return _as_tensor(composite_on_white(image, channels), channels)


def _as_tensor(flat: Image.Image, channels: int) -> torch.Tensor:
    """An "L" or "RGB" PIL image as uint8 (channels, H, W)."""
    import numpy as np
    import torch

    pixels = np.asarray(flat)  # (H, W) or (H, W, 3)
    return torch.from_numpy(pixels.reshape(*pixels.shape[:2], channels).transpose(2, 0, 1).copy())


def decode_image(path: Path, image_size: int, channels: int) -> torch.Tensor:
    """One image file as uint8 (C, size, size): composited on white, then centre-cropped and resized.

    Compositing comes first so that resizing never blends in the colours stored under transparent pixels.
    Raises ValueError naming `path`, before decoding it, for an image of more than MAX_PIXELS pixels.
    """
    with warnings.catch_warnings():  # PIL's warning names no file; the check below does
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except Image.DecompressionBombError as err:  # over twice PIL's limit: PIL refuses it without naming the file
            raise ValueError(f"{path} is too large to decode ({err})") from None
    with image:
        pixels = image.width * image.height
        if pixels > MAX_PIXELS:
            raise ValueError(f"{path} is {image.width} x {image.height} pixels ({pixels:,}), over the {MAX_PIXELS:,} "
                             "decoded here; shrink it or move it out of the folder")
        image.load()  # decode every byte now: Image.open reads only the header
        flat = composite_on_white(image, channels)
    if flat.size != (image_size, image_size):
        flat = center_crop_resize(flat, image_size)
    return _as_tensor(flat, channels)
