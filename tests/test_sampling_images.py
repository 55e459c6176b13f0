"""Sampled images written for people: one file per image (PNG, JPEG), animated GIF walks, the public helpers, and
the shipped sample grids that `G.sample(64, seed=0)` must keep reproducing on the CPU."""
import numpy as np
import pytest
import torch
from PIL import Image

import gan_models
from gan_models.data import to_uint8
from gan_models.images import image_grid, save_gif, save_images, to_pil
from tests.helpers import REPO


def test_save_images_writes_one_file_per_image_with_its_pixels(tmp_path):
    images = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    paths = save_images(images, tmp_path / "new" / "folder", start=10)
    assert [path.name for path in paths] == ["000010.png", "000011.png", "000012.png"]
    for path, expected in zip(paths, to_uint8(images), strict=True):
        with Image.open(path) as image:
            assert image.mode == "L" and np.array_equal(np.asarray(image), expected[0].numpy())
    colour = torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    smooth = colour.float().mean(dim=(2, 3), keepdim=True).expand(-1, -1, 16, 16).to(torch.uint8)  # flat colours
    jpegs = save_images(smooth, tmp_path / "jpg", format="jpg")
    with Image.open(jpegs[1]) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        assert np.abs(np.asarray(image).astype(int) - smooth[1].permute(1, 2, 0).numpy()).max() <= 3
    with pytest.raises(ValueError, match=r"unknown image format 'bmp'; choose one of \['png', 'jpg'\]"):
        save_images(smooth, tmp_path, format="bmp")


def test_a_gif_holds_every_frame_in_order(tmp_path):
    frames = torch.linspace(-1, 1, 6).view(6, 1, 1, 1).expand(6, 1, 8, 8)  # six flat grey levels
    path = save_gif(frames, tmp_path / "walk.gif", frame_ms=50)
    with Image.open(path) as gif:
        assert gif.n_frames == 6 and gif.info["loop"] == 0 and gif.info["duration"] == 50
        levels = []
        for index in range(gif.n_frames):
            gif.seek(index)
            levels.append(int(np.asarray(gif.convert("L"))[0, 0]))
    assert levels == to_uint8(frames[:, 0, 0, 0]).tolist()  # grayscale survives the GIF palette exactly
    with pytest.raises(ValueError, match="at least 2 frames"):
        save_gif(frames[:1], tmp_path / "one.gif")


def test_to_pil_refuses_images_of_other_shapes():
    with pytest.raises(ValueError, match=r"\(N, 1 or 3, H, W\), got \(2, 2, 4, 4\)"):
        to_pil(torch.zeros(2, 2, 4, 4))


def test_the_helpers_are_public():
    assert {"save_grid", "save_images", "save_gif"} <= set(gan_models.__all__)
    assert gan_models.save_images is save_images


def test_the_shipped_sample_grid_is_still_what_sample_draws_on_the_cpu():
    generator = gan_models.fcgan(pretrained=True)
    grid = image_grid(generator.sample(64, seed=0)).permute(1, 2, 0).numpy()
    with Image.open(REPO / "docs" / "samples" / "fcgan-mnist.png") as shipped:
        assert np.array_equal(np.asarray(shipped.convert("RGB")), grid)
