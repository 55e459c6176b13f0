"""GAN losses as plain functions of discriminator logits, each a mean over the minibatch.

All are computed from raw scores without a sigmoid-then-log, so logits of any size give finite
values. Discriminator losses are summed over the real and fake terms (not halved as in the
lecture), so logits of 0 give the vanilla l_D = 2 log 2 and l_G = log 2.

- vanilla / minimax: Goodfellow et al., arXiv 1406.2661.
- lsgan: Mao et al., arXiv 1611.04076, eq. 9 (targets a=0, b=1, c=1).
- wgan-gp: Gulrajani et al., arXiv 1704.00028 (critic loss plus `gradient_penalty`).
- R1 (a term added to any D loss): Mescheder et al., arXiv 1801.04406, eq. 9 (`r1_penalty`).
- hinge: Lim & Ye, arXiv 1705.02894; Miyato et al., arXiv 1802.05957.
- mode seeking (a term added to any G loss): Mao et al., arXiv 1903.05628.

The table of losses (`LOSSES`) imports no torch, so the command line can offer their names
before loading it; the functions import torch when called.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from torch import nn


def d_loss_vanilla(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))]: BCE-with-logits against `real_target` for real, 0 for fake.

    `real_target` < 1 is one-sided label smoothing (e.g. 0.9).
    """
    import torch
    import torch.nn.functional as F

    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_target))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def g_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(G(z))]: the non-saturating ("flipped labels") generator loss."""
    import torch.nn.functional as F

    return F.softplus(-fake_logits).mean()


def g_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """E[log(1 - D(G(z)))]: the original minimax generator loss; saturates when D is confident."""
    import torch.nn.functional as F

    return -F.softplus(fake_logits).mean()


def d_loss_lsgan(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """0.5 E[(D(x) - real_target)^2] + 0.5 E[D(G(z))^2] on raw scores (LSGAN eq. 9)."""
    return 0.5 * (real_logits - real_target).pow(2).mean() + 0.5 * fake_logits.pow(2).mean()


def g_loss_lsgan(fake_logits: torch.Tensor) -> torch.Tensor:
    """0.5 E[(D(G(z)) - 1)^2] on raw scores (LSGAN eq. 9)."""
    return 0.5 * (fake_logits - 1).pow(2).mean()


def d_loss_wasserstein(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """E[D(G(z))] - E[D(x)]: the critic's loss; add `gradient_penalty` for WGAN-GP. `real_target` is unused."""
    return fake_logits.mean() - real_logits.mean()


def g_loss_wasserstein(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]: the generator's Wasserstein loss."""
    return -fake_logits.mean()


def d_loss_hinge(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]. `real_target` is unused."""
    import torch.nn.functional as F

    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def gradient_penalty(discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP penalty E[(||grad_x D(x_hat)||_2 - 1)^2] at random interpolates x_hat of real and fake.

    Args:
        discriminator: the critic, (N, C, H, W) -> (N, 1).
        real, fake: image batches of the same shape (N, C, H, W); `fake` may be detached.
        generator: optional torch.Generator for the interpolation weights.

    Returns a scalar; multiply by the penalty weight (10 in the paper). The graph is kept so the
    penalty can be backpropagated into the critic.
    """
    import torch

    if real.shape != fake.shape:
        raise ValueError(f"real and fake batches must have the same shape, "
                         f"got {tuple(real.shape)} and {tuple(fake.shape)}")
    eps = torch.rand(real.shape[0], 1, 1, 1, generator=generator, device=real.device, dtype=real.dtype)
    mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = discriminator(mixed)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(2, dim=1) - 1).pow(2).mean()


def r1_penalty(discriminate: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor) -> torch.Tensor:
    """R1's E_x[||grad_x D(x)||_2^2] over a real batch (Mescheder et al. 2018, eq. 9, without its gamma / 2).

    Args:
        discriminate: D's scores of a batch, (N, C, H, W) -> (N, 1); it may augment the images first, and the
            gradient flows back through that to the un-augmented `real`.
        real: the real batch (N, C, H, W); may be detached.

    Returns a scalar; the trainer adds gamma / 2 times it (times the lazy interval k on the steps it is
    computed, as StyleGAN2 does). The graph is kept so it can be backpropagated into D.
    """
    import torch

    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminate(real).float().sum(), real, create_graph=True)
    return grad.float().flatten(1).pow(2).sum(dim=1).mean()


def mode_seeking_penalty(fake: torch.Tensor, z: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """The mode-seeking term of MSGAN (Mao et al. 2019, arXiv 1903.05628, eq. 3), to add to G's loss.

    Pairs the first n // 2 samples of a batch with its last n // 2 (sample i with i + ceil(n / 2)),
    drawn from different noise (and, for a conditional G, the same labels), and returns
    1 / (mean |G(z1) - G(z2)| / mean |z1 - z2| + eps): large when different noise gives the
    same image (mode collapse). `fake` is (n, ...) and `z` (n, nz), n >= 2; a scalar, weighted
    by the run's `mode_seeking` (1 in the paper).
    """
    half = fake.shape[0] // 2
    if half == 0:
        raise ValueError(f"mode seeking compares pairs of samples: a batch of {fake.shape[0]} has none")
    image_distance = (fake[:half] - fake[-half:]).abs().mean()
    return 1 / (image_distance / (z[:half] - z[-half:]).abs().mean() + eps)


@dataclass(frozen=True)
class GANLoss:
    """A named pair of losses and what the trainer needs to know about them.

    """

    name: str
    d_loss: Callable[..., torch.Tensor]  # (real_logits, fake_logits, real_target=1.0) -> scalar
    g_loss: Callable[[torch.Tensor], torch.Tensor]  # fake_logits -> scalar
    # sigmoid(D's score) is D's probability that an image is real (the logistic losses): D(x) and
    # D(G(z)) are then logged as probabilities, else as raw scores
    probability: bool = False
    gradient_penalty: bool = False  # the trainer adds the WGAN-GP term
    # D is trained towards real/fake targets, which label smoothing and flipping act on (critics have none)
    labels: bool = True
    # D's loss is >= 0, so "D's loss collapsed to 0" means something (a Wasserstein critic's is below 0 by design)
    nonnegative: bool = True


LOSSES = {
    loss.name: loss
    for loss in (
        GANLoss("vanilla", d_loss_vanilla, g_loss_nonsaturating, probability=True),
        GANLoss("minimax", d_loss_vanilla, g_loss_minimax, probability=True),
        GANLoss("lsgan", d_loss_lsgan, g_loss_lsgan),
        GANLoss("wgan-gp", d_loss_wasserstein, g_loss_wasserstein, gradient_penalty=True, labels=False,
                nonnegative=False),
        GANLoss("hinge", d_loss_hinge, g_loss_wasserstein, labels=False),
    )
}


def get_loss(name: str) -> GANLoss:
    """The GANLoss called `name`; raises ValueError naming the choices for an unknown one."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}")
    return LOSSES[name]
