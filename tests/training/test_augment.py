"""gan_models/training/augment.py: DiffAugment's three transformations checked against their definitions, the
policy parser, and a trainer whose D sees augmented images and still resumes exactly."""
from dataclasses import replace

import pytest
import torch

from gan_models.training.augment import diff_augment, parse_policy
from gan_models.training.checkpoint import load_checkpoint
from gan_models.training.trainer import TrainConfig, Trainer, train
from tests.helpers import assert_same_checkpoint, tiny_config


def images(n: int = 6, channels: int = 3, size: int = 16) -> torch.Tensor:
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(1)) * 2 - 1


def test_translation_shifts_each_image_by_at_most_an_eighth_with_zeros_moving_in():
    x = images()
    out = diff_augment(x, ("translation",), torch.Generator().manual_seed(0))
    shifts = []
    for original, moved in zip(x, out, strict=True):
        matches = []
        for dy in range(-2, 3):  # 16 / 8 = 2 pixels at most
            for dx in range(-2, 3):
                expected = torch.zeros_like(original)
                h, w = original.shape[1:]
                expected[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                    original[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
                if torch.equal(moved, expected):
                    matches.append((dy, dx))
        assert len(matches) == 1, matches
        shifts.append(matches[0])
    assert len(set(shifts)) > 1  # drawn per image


def test_cutout_zeroes_one_square_of_half_the_size_per_image_and_keeps_the_rest():
    x = images(n=8)
    out = diff_augment(x, ("cutout",), torch.Generator().manual_seed(0))
    for original, cut in zip(x, out, strict=True):
        zeroed = (cut == 0).all(dim=0)  # (H, W): where every channel was set to zero
        rows, cols = zeroed.any(dim=1).nonzero().flatten(), zeroed.any(dim=0).nonzero().flatten()
        assert 1 <= len(rows) <= 8 and 1 <= len(cols) <= 8  # an 8 x 8 square, clipped at the border
        box = zeroed[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert box.all() and zeroed.sum() == box.numel()  # one solid rectangle and nothing else
        assert torch.equal(cut[:, ~zeroed], original[:, ~zeroed])
    assert (out == 0).all(dim=1).sum() > 8 * 8 * 4  # most squares lie well inside the image


def test_color_is_brightness_then_saturation_then_contrast_per_image():
    x = images(n=4)
    draws = torch.rand(3, 4, generator=torch.Generator().manual_seed(0))  # the same draws, in the same order
    expected = x + (draws[0].view(-1, 1, 1, 1) - 0.5)
    mean = expected.mean(dim=1, keepdim=True)
    expected = (expected - mean) * (draws[1].view(-1, 1, 1, 1) * 2) + mean
    mean = expected.mean(dim=(1, 2, 3), keepdim=True)
    expected = (expected - mean) * (draws[2].view(-1, 1, 1, 1) + 0.5) + mean
    torch.testing.assert_close(diff_augment(x, ("color",), torch.Generator().manual_seed(0)), expected)


def test_gradients_flow_through_every_transformation_and_the_draws_are_seeded():
    x = images().requires_grad_(True)
    policy = parse_policy("color,translation,cutout")
    out = diff_augment(x, policy, torch.Generator().manual_seed(3))
    out.sum().backward()
    assert x.grad.abs().sum() > 0
    again = diff_augment(x.detach(), policy, torch.Generator().manual_seed(3))
    assert torch.equal(out.detach(), again)
    generator = torch.Generator().manual_seed(3)
    assert torch.equal(diff_augment(x.detach(), (), generator), x.detach())  # no policy: the images, and no draw
    assert torch.equal(generator.get_state(), torch.Generator().manual_seed(3).get_state())


@pytest.mark.parametrize("policy", ["rotation", "cutout,cutout", "translation;cutout"])
def test_unknown_or_repeated_policies_are_refused(policy):
    with pytest.raises(ValueError, match="give each of color, translation, cutout at most once"):
        parse_policy(policy)
    with pytest.raises(ValueError, match="diffaugment policy"):
        TrainConfig(diffaugment=policy).resolved()


def test_d_sees_augmented_images_and_a_resumed_run_matches_the_uninterrupted_one(tmp_path, tiny_images):
    config = tiny_config(diffaugment="translation,cutout", ema_decay=0.9)
    trainer = Trainer(config, tmp_path / "seen", images=tiny_images)
    seen = []
    trainer.netD.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    real = tiny_images[:16].float() / 127.5 - 1
    trainer.train_step(real)
    assert not torch.equal(seen[0][:16], real)  # D's real half: translated and cut out
    assert ((seen[0][:16] == 0).flatten(1).sum(dim=1) >= 14 * 14 // 4).all()  # every image lost a square or more

    whole = train(config, tmp_path / "whole", images=tiny_images)
    half = train(replace(config, epochs=1), tmp_path / "split", images=tiny_images)
    resumed = train(config, tmp_path / "split", resume=True, images=tiny_images)
    assert half.step * 2 == resumed.step == whole.step
    assert_same_checkpoint(load_checkpoint(tmp_path / "whole" / "checkpoint.pt"),
                           load_checkpoint(tmp_path / "split" / "checkpoint.pt"))
    plain = train(tiny_config(ema_decay=0.9), tmp_path / "plain", images=tiny_images)
    assert plain.last["errD"] != whole.last["errD"]  # the policy changed what D saw
