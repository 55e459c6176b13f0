"""One image, a PIL image or a file, to a uint8 tensor (C, H, W): transparency onto white, centre-crop, resize.

Images with transparency (RGBA, LA, PA, palette or RGB/L with a transparent colour) are composited
onto white before anything else: converting them straight to RGB would drop the alpha and keep
whatever colour the file happens to store under transparent pixels, and resizing first would blend
that colour into the edges. A file whose header claims more than MAX_PIXELS pixels is refused
before it is decoded. torch and numpy are imported in the functions, so that importing this module
(through gan_models.data) stays cheap for the command line's --help.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    import torch

# PIL's default decompression-bomb limit (a 9459 x 9459 image): decoding more takes gigabytes for an image
# that becomes 64 x 64 at most. PIL itself only warns, without naming the file, below twice this.
MAX_PIXELS = 89_478_485


def center_crop_resize(image: Image.Image, size: int) -> Image.Image:
    """Crop the largest centred square, then resize it to size x size."""
    from torchvision.transforms import functional as TF

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
