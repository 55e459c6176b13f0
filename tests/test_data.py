"""Data: in-memory loading, scaling, batching order, and clear errors for missing data."""
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from gan_models.batches import ImageBatches
from gan_models.data import (
    DATA_ROOT_ENV,
    DatasetNotFoundError,
    default_root,
    load_digits,
    load_images,
    load_labelled_images,
    to_uint8,
    to_unit_range,
)


def _image_folder(root: Path) -> dict[str, Path]:
    """Good images of every mode and size, plus broken files; returns them by kind."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    files = {"rgb": root / "a" / "rgb.png", "jpeg": root / "a" / "photo.jpg", "rgba": root / "b" / "rgba.png",
             "gray": root / "b" / "gray.png", "palette": root / "palette.gif", "small": root / "small.bmp",
             "corrupt": root / "corrupt.png", "truncated_png": root / "cut.png", "truncated_jpeg": root / "cut.jpg",
             "not_an_image": root / "notes.png"}
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(files["rgb"])
    Image.fromarray(rgb).save(files["jpeg"], quality=90)
    Image.fromarray(rng.integers(0, 256, (30, 30, 4), dtype=np.uint8)).save(files["rgba"])
    Image.fromarray(rgb[..., 0]).save(files["gray"])
    Image.fromarray(rgb).convert("P").save(files["palette"])
    Image.fromarray(rgb[:9, :7]).save(files["small"])
    files["corrupt"].write_bytes(b"\x89PNG\r\n\x1a\n" + rng.bytes(300))
    files["truncated_png"].write_bytes(files["rgb"].read_bytes()[:400])  # valid header, cut off
    files["truncated_jpeg"].write_bytes(files["jpeg"].read_bytes()[:1500])
    files["not_an_image"].write_text("not an image")
    (root / "readme.txt").write_text("ignored: not an image extension")
    return files


def _write_images(folder):
    (folder / "cats").mkdir(parents=True)
    Image.new("RGB", (40, 30), (255, 0, 0)).save(folder / "cats" / "red.png")
    Image.new("L", (20, 20), 128).save(folder / "gray.jpg")
    Image.new("RGBA", (32, 32), (0, 0, 255, 128)).save(folder / "blue.png")
    Image.new("P", (16, 24)).save(folder / "palette.gif")
    (folder / "notes.txt").write_text("not an image")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")


def test_mnist_train_and_test_splits(data_root):
    train = load_images("mnist", data_root)
    test = load_images("mnist", data_root, split="test")
    both = load_images("mnist", data_root, split="all")
    assert train.shape == (8000, 1, 28, 28) and train.dtype == torch.uint8
    assert test.shape == (2000, 1, 28, 28)
    assert both.shape == (10000, 1, 28, 28)
    assert torch.equal(both[:8000], train)
    assert train.max() == 255 and train.min() == 0


def test_fashion_mnist_resized_to_rgb_64(data_root):
    images = load_images("fashion-mnist", data_root, split="test", image_size=64, channels=3)
    assert images.shape == (10000, 3, 64, 64)
    assert torch.equal(images[:, 0], images[:, 2])  # grayscale repeated


def test_default_root_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ROOT_ENV, str(tmp_path))
    assert default_root() == tmp_path
    monkeypatch.delenv(DATA_ROOT_ENV)
    assert str(default_root()) == "data"


def test_missing_data_says_where_it_looked_and_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_images("fashion-mnist", tmp_path)
    message = str(info.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in message
    assert "--download" in message and "--data-root" in message and DATA_ROOT_ENV in message


def test_missing_celeba_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="celeba not found"):
        load_images("celeba", tmp_path)


def test_unknown_dataset_and_split():
    expected = r"unknown dataset 'cifar'; choose one of \['mnist', 'fashion-mnist', 'celeba', 'folder', 'emoji'\]"
    with pytest.raises(ValueError, match=expected):
        load_images("cifar")
    with pytest.raises(ValueError, match="unknown split 'val'"):
        load_images("mnist", split="val")


def test_scaling_round_trip():
    pixels = torch.tensor([0, 1, 127, 128, 254, 255], dtype=torch.uint8)
    scaled = to_unit_range(pixels)
    assert scaled[0] == -1 and scaled[-1] == 1
    assert scaled[2].item() == pytest.approx(127 / 127.5 - 1)
    assert torch.equal(to_uint8(scaled), pixels)
    assert torch.equal(to_uint8(torch.tensor([-3.0, 3.0])), torch.tensor([0, 255], dtype=torch.uint8))


def test_batches_cover_every_image_once_per_epoch_in_a_seeded_order(tiny_images):
    batches = ImageBatches(tiny_images, batch_size=16, seed=5)
    assert len(batches) == 4
    first = torch.cat(list(batches))
    assert first.shape == (64, 1, 28, 28) and first.dtype == torch.float32
    assert first.min() >= -1 and first.max() <= 1
    # A permutation of all images: sorted pixel sums agree.
    assert torch.equal(to_uint8(first).flatten(1).sum(1).sort().values, tiny_images.flatten(1).sum(1).sort().values)
    again = torch.cat(list(ImageBatches(tiny_images, batch_size=16, seed=5)))
    assert torch.equal(first, again)  # same seed, same order
    batches.set_epoch(1)
    assert not torch.equal(first, torch.cat(list(batches)))  # a new epoch reshuffles


def test_batches_drop_last_and_keep_last(tiny_images):
    assert len(ImageBatches(tiny_images, batch_size=10)) == 6
    kept = ImageBatches(tiny_images, batch_size=10, drop_last=False)
    assert len(kept) == 7 and [len(b) for b in kept][-1] == 4


def test_ranks_split_the_epoch_without_overlap(tiny_images):
    ranks = [torch.cat(list(ImageBatches(tiny_images, batch_size=8, seed=1, rank=r, world_size=2))) for r in (0, 1)]
    whole = torch.cat(list(ImageBatches(tiny_images, batch_size=8, seed=1)))
    assert ranks[0].shape == ranks[1].shape == (32, 1, 28, 28)
    merged = torch.stack([ranks[0], ranks[1]], dim=1).reshape(64, 1, 28, 28)  # interleave back
    assert torch.equal(merged, whole)


def test_batches_reject_bad_arguments(tiny_images):
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        ImageBatches(tiny_images, batch_size=0)
    with pytest.raises(ValueError, match="too few"):
        ImageBatches(tiny_images, batch_size=65)
    with pytest.raises(ValueError, match="uint8"):
        ImageBatches(tiny_images.float(), batch_size=4)


def test_folder_of_mixed_images_loads_and_skips_bad_files(tmp_path):
    _write_images(tmp_path)
    with pytest.warns(UserWarning, match="broken.png"):
        images = load_images("folder", tmp_path, image_size=16, channels=3)
    assert images.shape == (4, 3, 16, 16)
    # sorted order: blue.png, cats/red.png, gray.jpg, palette.gif
    assert images[1, :, 8, 8].tolist() == [255, 0, 0]
    # blue at alpha 128 over white: red and green (0 * 128 + 255 * 127) / 255 = 127, rounded
    assert images[0, :, 8, 8].tolist() == [127, 127, 255]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert load_images("folder", tmp_path, image_size=8, channels=1).shape == (4, 1, 8, 8)


def test_empty_or_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="no usable images"):
        load_images("folder", tmp_path)
    with pytest.raises(DatasetNotFoundError, match="is not a directory"):
        load_images("folder", tmp_path / "nope")


def test_the_folder_dataset_never_falls_back_to_the_data_root(tmp_path, monkeypatch):
    # The data root holds the other datasets' files, not the user's images: training or measuring on it is wrong.
    Image.new("RGB", (8, 8)).save(tmp_path / "one.png")
    monkeypatch.setenv(DATA_ROOT_ENV, str(tmp_path))
    assert load_images("folder", tmp_path, image_size=8).shape == (1, 3, 8, 8)
    for load in (load_images, load_labelled_images):
        with pytest.raises(DatasetNotFoundError, match="needs its image folder: give --data-root DIR"):
            load("folder")


# Pillow opens a 16-bit grayscale PNG as I;16 (older versions: I, here made with an integer TIFF).
@pytest.mark.parametrize("mode, name", [("I;16", "ramp.png"), ("I", "ramp.tif")])
@pytest.mark.parametrize("channels", [1, 3])
def test_16_bit_grayscale_images_are_scaled_not_clipped(tmp_path, mode, name, channels):
    """16-bit 0..65535 maps onto 0..255 like the 8-bit version of the image; PIL's own convert clips it to white."""
    import numpy as np

    ramp = np.linspace(0, 65535, 32 * 32).round().astype(np.uint16).reshape(32, 32)
    (tmp_path / "16").mkdir()
    (tmp_path / "8").mkdir()
    image16 = Image.fromarray(ramp)
    (image16 if mode == "I;16" else image16.convert("I")).save(tmp_path / "16" / name)
    with Image.open(tmp_path / "16" / name) as saved:
        assert saved.mode == mode
    Image.fromarray((ramp // 257).astype(np.uint8)).save(tmp_path / "8" / "ramp.png")
    wide = load_images("folder", tmp_path / "16", image_size=32, channels=channels)
    narrow = load_images("folder", tmp_path / "8", image_size=32, channels=channels)
    assert (wide.int() - narrow.int()).abs().max() <= 1
    assert wide.float().mean() == pytest.approx(127.5, abs=1)


@pytest.mark.parametrize("tolerant_pil", [False, True])
def test_image_folders_skip_bad_files_by_name_and_load_good_ones(tmp_path, monkeypatch, tolerant_pil):
    files = _image_folder(tmp_path / "images")
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", tolerant_pil)  # as another library may set it
    with pytest.warns(UserWarning, match="skipped 4 unreadable image") as caught:
        images = load_images("folder", tmp_path / "images", channels=3, image_size=16)
    assert images.shape == (6, 3, 16, 16) and images.dtype == torch.uint8
    message = str(caught[0].message)
    for kind in ("corrupt", "truncated_png", "truncated_jpeg", "not_an_image"):
        assert str(files[kind]) in message
    assert ImageFile.LOAD_TRUNCATED_IMAGES is tolerant_pil  # restored
    with pytest.warns(UserWarning, match="skipped 4"):
        assert load_images("folder", tmp_path / "images", channels=1, image_size=8).shape == (6, 1, 8, 8)


def test_an_image_folder_with_nothing_usable_is_one_clear_error(tmp_path):
    files = _image_folder(tmp_path / "images")
    for kind in ("rgb", "jpeg", "rgba", "gray", "palette", "small"):
        files[kind].unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DatasetNotFoundError, match="no usable images in"):
            load_images("folder", tmp_path / "images")


def test_batches_keep_each_image_with_its_label():
    images = torch.arange(40, dtype=torch.uint8).view(40, 1, 1, 1).expand(40, 1, 4, 4).contiguous()
    labels = torch.arange(40) * 3  # image i has pixel value i and label 3 i
    batches = ImageBatches(images, 8, labels=labels, seed=5)
    batches.set_epoch(2)
    pairs = list(batches)
    assert len(pairs) == 5
    seen = []
    for real, y in pairs:
        value = ((real[:, 0, 0, 0] + 1) * 127.5).round().long()  # back from [-1, 1] to the pixel value
        assert torch.equal(y, 3 * value)
        seen += value.tolist()
    assert sorted(seen) == list(range(40))
    resumed = list(batches.iterate(start_batch=3))  # a resumed epoch replays the same pairs
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(resumed, pairs[3:], strict=True))
    with pytest.raises(ValueError, match=r"labels must be an int64 tensor \(40,\), one per image"):
        ImageBatches(images, 8, labels=labels[:39])



def test_labelled_digits_come_with_their_class_names(data_root):
    images, labels, classes = load_labelled_images("fashion-mnist", data_root, split="test")
    assert images.shape == (10_000, 1, 28, 28) and labels.shape == (10_000,)
    assert classes[7] == "Sneaker" and len(classes) == 10
    assert torch.equal(labels, load_digits("fashion-mnist", data_root, split="test")[1])
    assert torch.bincount(labels).tolist() == [1000] * 10
    _, mnist_labels, mnist_classes = load_labelled_images("mnist", data_root, split="train")
    assert mnist_classes == tuple("0123456789") and len(mnist_labels) == 8000



def test_a_folder_of_class_subfolders_is_labelled_and_a_flat_one_is_refused(tmp_path):
    for name, colour in [("zebra", (0, 0, 0)), ("apple", (255, 0, 0))]:
        (tmp_path / name).mkdir()
        for i in range(2):
            Image.new("RGB", (8, 8), colour).save(tmp_path / name / f"{i}.png")
    (tmp_path / "apple" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.warns(UserWarning, match="broken.png"):
        images, labels, classes = load_labelled_images("folder", tmp_path, image_size=8)
    assert classes == ("apple", "zebra")  # sorted subfolder names give the label order
    assert labels.tolist() == [0, 0, 1, 1]  # the unreadable apple is skipped with its label
    assert images[:, 0, 4, 4].tolist() == [255, 255, 0, 0]
    Image.new("RGB", (8, 8)).save(tmp_path / "loose.png")
    with pytest.raises(ValueError, match=rf"but the folder {tmp_path} has images outside class subfolders"):
        load_labelled_images("folder", tmp_path, image_size=8)



def test_unlabelled_datasets_are_refused_in_one_line(tmp_path):
    message = (r"^a conditional GAN needs labelled images, but celeba has no class labels; "
               r"use mnist, fashion-mnist, emoji or a folder with one subfolder of images per class$")
    with pytest.raises(ValueError, match=message):
        load_labelled_images("celeba", tmp_path)  # refused before looking for the files

