"""gan_models.emoji: Emoji64's layout, labels, designs and fixed hold-out, on a made-up tree and on the real data."""
import numpy as np
import pytest
import torch
from PIL import Image

from gan_models.data import load_images
from gan_models.dataroot import DatasetNotFoundError
from gan_models.emoji import EMOJI_CATEGORIES, EMOJI_CREDITS, dataset_credits, load_emoji


def _tree(root, per_category: int = 20):
    """Emoji64 in miniature: both designs, every category, `per_category` 8 x 8 images named 000.png...

    google files are RGBA, twitter files palette images with a transparent index (as published);
    pixel (0, 0) is transparent, the rest encodes (category, image, design) in its colour.
    """
    for d, design in enumerate(("google", "twitter")):
        for c, category in enumerate(EMOJI_CATEGORIES):
            (root / "Emoji64" / design / category).mkdir(parents=True)
            for i in range(per_category):
                colour = (10 * c, i, 100 + d)
                if design == "google":
                    pixels = np.zeros((8, 8, 4), dtype=np.uint8)
                    pixels[...] = (*colour, 255)
                    pixels[0, 0] = (0, 0, 0, 0)
                    Image.fromarray(pixels, "RGBA").save(root / "Emoji64" / design / category / f"{i:03d}.png")
                else:
                    image = Image.new("P", (8, 8), 1)
                    image.putpalette([0, 0, 0, *colour] + [0] * 762)
                    image.putpixel((0, 0), 0)
                    image.save(root / "Emoji64" / design / category / f"{i:03d}.png", transparency=0)
    return root


def test_splits_hold_out_a_tenth_of_each_category_in_both_designs_at_once(tmp_path):
    root = _tree(tmp_path)
    train_x, train_y = load_emoji(root, split="train", image_size=8)
    test_x, test_y = load_emoji(root, split="test", image_size=8)
    all_x, all_y = load_emoji(root, split="all", image_size=8)
    # 20 per category and design: 2 held out (10%), 18 trained on; 10 categories, 2 designs
    assert (len(train_x), len(test_x), len(all_x)) == (360, 40, 400)
    assert test_y.bincount().tolist() == [4] * 10 and train_y.bincount().tolist() == [36] * 10
    assert all_y.tolist() == [c for _ in range(2) for c in range(10) for _ in range(20)]
    # transparent corner on white; the colour says (category, image, design)
    assert all_x[:, :, 0, 0].eq(255).all()
    keys = lambda x: {tuple(v) for v in x[:, :, 4, 4].tolist()}  # noqa: E731
    assert keys(train_x) | keys(test_x) == keys(all_x) and not keys(train_x) & keys(test_x)
    held_out = {(c, i) for c, i, _ in keys(test_x)}
    assert {(c, i, 100) for c, i in held_out} | {(c, i, 101) for c, i in held_out} == keys(test_x)


def test_one_design_is_the_matching_part_of_both(tmp_path):
    root = _tree(tmp_path, per_category=5)
    both, _ = load_emoji(root, split="test", image_size=8)
    google, google_y = load_emoji(root, split="test", design="google", image_size=8)
    twitter, _ = load_emoji(root, split="test", design="twitter", image_size=8)
    assert len(google) == len(twitter) == 10  # max(1, round(0.5)) emoji per category
    assert torch.equal(both, torch.cat([google, twitter])) and google_y.tolist() == list(range(10))
    assert google[:, 2, 4, 4].eq(100).all() and twitter[:, 2, 4, 4].eq(101).all()
    via_load_images = load_images("emoji", root, split="test", image_size=8, emoji_design="twitter")
    assert torch.equal(via_load_images, twitter)


def test_bad_design_split_and_missing_folders_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown emoji design 'apple'"):
        load_emoji(tmp_path, design="apple")
    with pytest.raises(ValueError, match="unknown split 'val'"):
        load_emoji(tmp_path, split="val")
    with pytest.raises(DatasetNotFoundError, match=r"Emoji64/google/activities is not a directory"):
        load_emoji(tmp_path)


def test_credits_name_both_licences_for_emoji_only():
    assert dataset_credits("emoji") == EMOJI_CREDITS
    assert any("Apache License 2.0" in line for line in EMOJI_CREDITS)
    assert any("CC BY 4.0" in line for line in EMOJI_CREDITS)
    assert dataset_credits("mnist") == ()


def test_an_emoji_and_its_skin_tones_fall_on_the_same_side(tmp_path):
    folder = tmp_path / "Emoji64"
    for design in ("google", "twitter"):
        for category in EMOJI_CATEGORIES:
            (folder / design / category).mkdir(parents=True)
        # 12 people, each in 6 files: plain and five skin tones; tone swatches stay apart (component)
        for person in range(12):
            for t, tone in enumerate(("", "-1f3fb", "-1f3fc", "-1f3fd", "-1f3fe", "-1f3ff")):
                path = folder / design / "people-body" / f"1f9{person:02x}{tone}.png"
                Image.new("L", (4, 4), 20 * person + t).save(path)
    _, train_y = load_emoji(tmp_path, split="train", image_size=4)
    test_x, test_y = load_emoji(tmp_path, split="test", image_size=4)
    assert test_y.tolist() == [6] * 12 and len(train_y) == 132  # 1 of 12 people (round(1.2)), 6 files, 2 designs
    assert len({v // 20 for v in test_x[:, 0, 0, 0].tolist()}) == 1  # one person, in all six files


def test_the_real_emoji64_splits(data_root):
    train_x, train_y = load_emoji(data_root, split="train")
    test_x, test_y = load_emoji(data_root, split="test")
    assert train_x.shape == (6784, 3, 64, 64) and test_x.shape == (788, 3, 64, 64)
    # held-out emoji per category: max(1, round(0.1 * n)) of 85, 159, 5, 270, 131, 264, 409 (people-body, skin
    # tones grouped: 242 files), 169, 224, 218; twice, once per design
    assert test_y.bincount().tolist() == [2 * n for n in (8, 16, 1, 27, 13, 26, 242, 17, 22, 22)]
    assert train_y.bincount().sum() + test_y.bincount().sum() == 7572
    # transparent corners land on white: the top-left pixel is white in all but 130 of 6,784 (104 people-body)
    assert train_x[:, :, 0, 0].eq(255).all(dim=1).sum() == 6654
