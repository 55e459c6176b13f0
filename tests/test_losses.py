"""Losses against hand-computed values, and stability at extreme logits."""
import math

import pytest
import torch

from gan_models import losses
from gan_models.losses import LOSSES, get_loss

ZERO = torch.zeros(4, 1)


def test_vanilla_losses_at_zero_logits():
    assert losses.d_loss_vanilla(ZERO, ZERO).item() == pytest.approx(2 * math.log(2), abs=1e-6)  # 1.386294
    assert losses.g_loss_nonsaturating(ZERO).item() == pytest.approx(math.log(2), abs=1e-6)  # 0.693147
    assert losses.g_loss_minimax(ZERO).item() == pytest.approx(-math.log(2), abs=1e-6)


def test_vanilla_losses_match_the_definition():
    real, fake = torch.tensor([[2.0], [-1.0]]), torch.tensor([[0.5], [-3.0]])
    sig = torch.sigmoid
    expected_d = -(torch.log(sig(real)).mean() + torch.log(1 - sig(fake)).mean())
    assert losses.d_loss_vanilla(real, fake).item() == pytest.approx(expected_d.item(), rel=1e-6)
    assert losses.g_loss_nonsaturating(fake).item() == pytest.approx(-torch.log(sig(fake)).mean().item(), rel=1e-6)
    assert losses.g_loss_minimax(fake).item() == pytest.approx(torch.log(1 - sig(fake)).mean().item(), rel=1e-6)


def test_label_smoothing_changes_the_real_target():
    # BCE(0, 0.9) = log 2 whatever the target; at logit 2: -(0.9 log s(2) + 0.1 log(1 - s(2)))
    real = torch.tensor([[2.0]])
    s = 1 / (1 + math.exp(-2.0))
    expected = -(0.9 * math.log(s) + 0.1 * math.log(1 - s)) + math.log(2)
    assert losses.d_loss_vanilla(real, ZERO[:1], real_target=0.9).item() == pytest.approx(expected, rel=1e-6)


def test_lsgan_losses_eq9():
    real, fake = torch.tensor([[1.0], [3.0]]), torch.tensor([[0.0], [2.0]])
    # 0.5 * mean((real-1)^2) + 0.5 * mean(fake^2) = 0.5 * 2 + 0.5 * 2 = 2
    assert losses.d_loss_lsgan(real, fake).item() == pytest.approx(2.0)
    # 0.5 * mean((fake-1)^2) = 0.5 * (1 + 1) / 2 = 0.5
    assert losses.g_loss_lsgan(fake).item() == pytest.approx(0.5)
    assert losses.d_loss_lsgan(ZERO, ZERO).item() == pytest.approx(0.5)


def test_wasserstein_and_hinge_losses():
    real, fake = torch.tensor([[2.0], [0.0]]), torch.tensor([[-0.5], [1.5]])
    assert losses.d_loss_wasserstein(real, fake).item() == pytest.approx(0.5 - 1.0)
    assert losses.g_loss_wasserstein(fake).item() == pytest.approx(-0.5)
    # relu(1 - [2, 0]) = [0, 1] -> 0.5; relu(1 + [-0.5, 1.5]) = [0.5, 2.5] -> 1.5
    assert losses.d_loss_hinge(real, fake).item() == pytest.approx(2.0)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_extreme_logits_stay_finite(name):
    loss = get_loss(name)
    big = torch.tensor([[100.0], [-100.0]], requires_grad=True)
    for real, fake in [(big, -big), (-big, big)]:
        d = loss.d_loss(real, fake)
        g = loss.g_loss(fake)
        assert torch.isfinite(d) and torch.isfinite(g)
        (grad,) = torch.autograd.grad(d + g, big)
        assert torch.isfinite(grad).all()


def test_extreme_vanilla_values_are_exact():
    # A discriminator confidently wrong by 100 pays 100 per term, not inf.
    assert losses.d_loss_vanilla(torch.tensor([[-100.0]]), torch.tensor([[100.0]])).item() == pytest.approx(200.0)
    assert losses.g_loss_nonsaturating(torch.tensor([[-100.0]])).item() == pytest.approx(100.0)


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = sum(w * x) has gradient w everywhere: penalty (||w|| - 1)^2 exactly.
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1, bias=False))
    with torch.no_grad():
        critic[1].weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0]]))  # norm 5
    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    penalty = losses.gradient_penalty(critic, real, fake)
    assert penalty.item() == pytest.approx(16.0)
    penalty.backward()
    assert critic[1].weight.grad is not None  # differentiable w.r.t. the critic


def test_gradient_penalty_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="same shape"):
        losses.gradient_penalty(torch.nn.Identity(), torch.zeros(2, 1, 2, 2), torch.zeros(3, 1, 2, 2))


def test_unknown_loss_lists_choices():
    expected = r"unknown loss 'wgan'; choose one of \['hinge', 'lsgan', 'minimax', 'vanilla', 'wgan-gp'\]"
    with pytest.raises(ValueError, match=expected):
        get_loss("wgan")
    assert get_loss("wgan-gp").gradient_penalty and not get_loss("vanilla").gradient_penalty


def test_mode_seeking_penalty_by_hand():
    # Batch of 5: sample 0 pairs with 3 and 1 with 4 (2 is left out). Image distance (|0-2| + 0 + 0 + |1-3|) / 4 = 1,
    # noise distance (|0-4| + |0+4|) / 2 = 4: the ratio is 1/4 and the penalty its inverse, 4.
    fake = torch.tensor([[0.0, 0.0], [1.0, 1.0], [9.0, 9.0], [2.0, 0.0], [1.0, 3.0]]).view(5, 1, 1, 2)
    z = torch.tensor([[0.0], [0.0], [7.0], [4.0], [-4.0]])
    assert losses.mode_seeking_penalty(fake, z, eps=0.0).item() == pytest.approx(4.0)
    assert losses.mode_seeking_penalty(fake, z).item() == pytest.approx(1 / (0.25 + 1e-5))
    collapsed = torch.ones(4, 1, 2, 2)  # different noise, one image: the penalty is 1 / eps
    assert losses.mode_seeking_penalty(collapsed, torch.randn(4, 8)).item() == pytest.approx(1e5)
    with pytest.raises(ValueError, match="a batch of 1 has none"):
        losses.mode_seeking_penalty(fake[:1], z[:1])


def test_r1_of_a_square_critic_is_the_squared_norm_of_its_gradient_2_w_x():
    # D(x) = sum(w * x^2) has grad_x D = 2 w x: R1 = E ||2 w x||^2 = mean over images of sum 4 w^2 x^2.
    w = torch.tensor([[[[1.0, -2.0], [0.5, 0.0]]]], requires_grad=True)
    real = torch.tensor([[[[1.0, 1.0], [2.0, 3.0]]], [[[-1.0, 0.5], [0.0, 1.0]]]])  # (2, 1, 2, 2)
    penalty = losses.r1_penalty(lambda x: (w * x.pow(2)).flatten(1).sum(dim=1, keepdim=True), real)
    # image 1: 4 * (1 + 4 + 1 + 0) = 24; image 2: 4 * (1 + 1 + 0 + 0) = 8; mean 16
    assert penalty.item() == pytest.approx(16.0)
    penalty.backward()  # differentiable w.r.t. D: d/dw of mean(sum 4 w^2 x^2) = 8 w mean(x^2)
    torch.testing.assert_close(w.grad, 8 * w.detach() * real.pow(2).mean(dim=0, keepdim=True))
    assert real.grad is None  # the caller's batch is left alone


def test_r1_differentiates_through_an_augmentation_to_the_unaugmented_reals():
    # D sees 3 x (an augmentation); D(y) = sum(v * y) is linear: grad_x = 3 v, so R1 = 9 ||v||^2 for every image.
    v = torch.tensor([1.0, 2.0, 2.0, 0.0])
    penalty = losses.r1_penalty(lambda x: (3 * x).flatten(1) @ v[:, None], torch.randn(5, 1, 2, 2))
    assert penalty.item() == pytest.approx(9 * 9.0)
