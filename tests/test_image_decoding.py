"""gan_models/image_decoding.py: transparency lands on white, pixel for pixel, in single files and folders."""
import numpy as np
import pytest
import torch
from PIL import Image

from gan_models.data import load_images
from gan_models.image_decoding import composite_on_white, decode_image


def _rgba(pixels) -> Image.Image:
    """A 1-row RGBA image from a list of (r, g, b, a)."""
    return Image.fromarray(np.array([pixels], dtype=np.uint8), "RGBA")


def test_rgba_alpha_0_is_white_255_keeps_the_colour_and_between_blends_by_hand():
    # red hidden under alpha 0, opaque green, blue at alpha 128 and 1, black at alpha 64
    image = _rgba([(255, 0, 0, 0), (0, 200, 0, 255), (0, 0, 255, 128), (0, 0, 255, 1), (0, 0, 0, 64)])
    out = np.asarray(composite_on_white(image, 3)).tolist()[0]
    # (c * a + 255 * (255 - a) + 127) // 255: 0 at a=128 -> (32385 + 127) // 255 = 127; a=1 -> 254; a=64 -> 191
    assert out == [[255, 255, 255], [0, 200, 0], [127, 127, 255], [254, 254, 255], [191, 191, 191]]


def test_grayscale_output_of_a_transparent_image_is_the_gray_of_the_white_composite():
    image = _rgba([(255, 0, 0, 0), (10, 10, 10, 255), (0, 0, 0, 128)])
    assert np.asarray(composite_on_white(image, 1)).tolist() == [[255, 10, 127]]


def test_palette_with_a_transparent_index_and_la_images_composite_too():
    palette = Image.new("P", (3, 1))
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)  # index 0 black, 1 red, 2 blue
    palette.putdata([0, 1, 2])
    palette.info["transparency"] = 0  # black is the transparent colour, as in Twemoji's files
    assert np.asarray(composite_on_white(palette, 3)).tolist() == [[[255, 255, 255], [255, 0, 0], [0, 0, 255]]]
    gray = Image.fromarray(np.array([[[40, 0], [40, 255], [40, 51]]], dtype=np.uint8), "LA")
    # 40 at alpha 51: (40 * 51 + 255 * 204 + 127) // 255 = 212
    assert np.asarray(composite_on_white(gray, 1)).tolist() == [[255, 40, 212]]
    assert np.asarray(composite_on_white(gray, 3)).tolist() == [[[255] * 3, [40] * 3, [212] * 3]]


def test_opaque_images_are_only_converted():
    image = Image.fromarray(np.array([[[1, 2, 3], [250, 251, 252]]], dtype=np.uint8), "RGB")
    assert np.asarray(composite_on_white(image, 3)).tolist() == [[[1, 2, 3], [250, 251, 252]]]


def test_folder_files_keep_exact_values_and_resizing_never_blends_the_hidden_colour(tmp_path):
    # 32 x 32: left half opaque red, right half transparent over a stored black. Before the fix,
    # convert("RGB") turned the right half black; resizing RGBA first would smear black into the edge.
    pixels = np.zeros((32, 32, 4), dtype=np.uint8)
    pixels[:, :16] = (255, 0, 0, 255)
    Image.fromarray(pixels, "RGBA").save(tmp_path / "half.png")
    palette = Image.new("P", (16, 16), 1)
    palette.putpalette([0, 0, 0, 0, 128, 0] + [0] * 762)
    palette.info["transparency"] = 1  # the whole image is its transparent colour
    palette.save(tmp_path / "palette.png", transparency=1)

    full = decode_image(tmp_path / "half.png", 32, 3)
    assert full[:, 0, 0].tolist() == [255, 0, 0] and full[:, 0, 31].tolist() == [255, 255, 255]
    images = load_images("folder", tmp_path, image_size=16, channels=3)  # sorted: half.png, palette.png
    assert images.shape == (2, 3, 16, 16)
    red = torch.tensor([255, 0, 0], dtype=torch.uint8).view(3, 1, 1)
    assert images[0, :, :, :7].eq(red).all()  # red, away from the resampled edge
    assert images[0, :, :, 9:].eq(255).all()  # white, not black, right up to the edge
    assert images[1].eq(255).all()  # a fully transparent palette image is white


@pytest.mark.parametrize("channels", [1, 3])
def test_decoding_gives_the_requested_channels(tmp_path, channels):
    _rgba([(0, 0, 0, 255)] * 4).save(tmp_path / "row.png")
    assert tuple(decode_image(tmp_path / "row.png", 4, channels).shape) == (channels, 4, 4)


def _huge_png(path, side: int) -> None:
    """A valid, all-black grayscale PNG of side x side pixels, written a row at a time (never held whole)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, row, parts = zlib.compressobj(9), b"\0" * (side + 1), []
    parts = [packer.compress(row) for _ in range(side)] + [packer.flush()]
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts))
                     + chunk(b"IEND", b""))


def test_a_12000_pixel_square_image_is_refused_naming_the_file_before_it_is_decoded(tmp_path, recwarn):
    huge = tmp_path / "huge.png"
    _huge_png(huge, 12000)
    with Image.open(huge) as check:
        assert check.size == (12000, 12000)
    recwarn.clear()
    with pytest.raises(ValueError) as refused:
        decode_image(huge, 28, 1)
    assert str(refused.value) == (f"{huge} is 12000 x 12000 pixels (144,000,000), over the 89,478,485 decoded here; "
                                  "shrink it or move it out of the folder")
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]
    for index in range(2):
        Image.new("L", (28, 28), index * 100).save(tmp_path / f"{index}.png")
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable image\(s\): .*huge.png \(ValueError: .*12000 x 12000"):
        images = load_images("folder", str(tmp_path), image_size=28, channels=1)
    assert images.shape == (2, 1, 28, 28)
