"""PNG grids and sheets: written atomically, and nothing left behind when a write fails."""
import pytest
import torch
from PIL import Image

from gan_models.images import save_grid, save_sheet


def _fill_the_disk(monkeypatch):
    """Make PIL's PNG writer fail half-way, as on a full disk."""
    def failing_save(self, fp, *args, **kwargs):
        with open(fp, "wb") as file:
            file.write(b"\x89PNG\r\n\x1a\n half a picture")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", failing_save)


def test_a_failed_grid_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    images = torch.rand(4, 1, 28, 28) * 2 - 1
    path = save_grid(images, tmp_path / "grid.png", nrow=2)
    before = path.read_bytes()
    sheet = save_sheet([path], ["epoch 1"], tmp_path / "sheet.png")
    sheet_before = sheet.read_bytes()
    _fill_the_disk(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        save_grid(images, path, nrow=2)
    with pytest.raises(OSError, match="No space left"):
        save_sheet([path], ["epoch 1"], sheet)
    assert path.read_bytes() == before and sheet.read_bytes() == sheet_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png", "sheet.png"]


@pytest.mark.parametrize("n, nrow, channels", [(1, 8, 1), (7, 3, 1), (64, 8, 3), (5, 8, 3), (10, 4, 1)])
def test_grids_are_torchvisions_make_grid_pixel_for_pixel(n, nrow, channels):
    from torchvision.utils import make_grid

    from gan_models.data import to_uint8
    from gan_models.images import image_grid

    images = torch.rand(n, channels, 5, 6, generator=torch.Generator().manual_seed(n)) * 2 - 1
    expected = make_grid(to_uint8(images), nrow=nrow, padding=2)
    assert image_grid(images, nrow=nrow).shape == expected.shape
    assert torch.equal(image_grid(images, nrow=nrow), expected)


def test_a_faster_compression_level_writes_the_same_pixels(tmp_path):
    """The training grids' zlib level 1 is lossless: the same pixels as level 6, in another file."""
    import numpy as np

    from gan_models.images import image_grid
    from gan_models.training.grids import GRID_COMPRESS_LEVEL

    torch.manual_seed(0)
    images = torch.rand(64, 3, 64, 64) * 2 - 1
    files = {}
    for level in (GRID_COMPRESS_LEVEL, 6):
        path = save_grid(images, tmp_path / f"level-{level}.png", compress_level=level)
        files[level] = path.read_bytes()
        assert torch.equal(torch.from_numpy(np.array(Image.open(path))).permute(2, 0, 1), image_grid(images))
    assert files[GRID_COMPRESS_LEVEL] != files[6]  # a different encoding, so the level was passed on
