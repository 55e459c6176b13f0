"""Latent noise: the one place that decides how `z` is drawn.

The assignment draws z uniformly from [-1, 1]; the lectures draw it from a standard normal,
which trains better in practice and is our default. Generators remember which one they were
trained with (their `noise` attribute), so sampling and training always agree. The names and
seed rules import no torch (the command line's help uses them); the samplers import it when called.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

NOISE_KINDS = ("normal", "uniform")
MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed takes seeds 0 .. 2**64 - 1 (and raises "Overflow" beyond)


def as_seed(value: int) -> int:
    """A seed derived by arithmetic (seed + epoch, ...) folded into torch's range 0 .. MAX_SEED."""
    return value % (MAX_SEED + 1)


def check_noise_kind(kind: str) -> str:
    """Return `kind` if it names a known noise distribution, else raise ValueError."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise {kind!r}; choose one of {list(NOISE_KINDS)}")
    return kind


def sample_noise(n: int, nz: int, kind: str = "normal", *, generator: torch.Generator | None = None,
                 device: torch.device | str | None = None) -> torch.Tensor:
    """Draw a latent batch of shape (n, nz).

    Args:
        n: batch size, >= 0.
        nz: latent size, >= 1.
        kind: "normal" (standard normal) or "uniform" (uniform on [-1, 1]).
        generator: optional torch.Generator for reproducible draws (must live on `device`).
        device: where the tensor is created.
    """
    import torch

    check_noise_kind(kind)
    if n < 0 or nz < 1:
        raise ValueError(f"need n >= 0 and nz >= 1, got n={n}, nz={nz}")
    if kind == "normal":
        return torch.randn(n, nz, generator=generator, device=device)
    return torch.rand(n, nz, generator=generator, device=device).mul_(2).sub_(1)


def interpolate_latents(start: torch.Tensor, end: torch.Tensor, frames: int, kind: str = "normal") -> torch.Tensor:
    """Latent walks from `start` to `end` (both (W, nz)): returns (W, frames, nz), endpoints included.

    Normal noise is walked along the great circle (spherical interpolation), which keeps the norm
    typical of Gaussian samples; uniform noise along the straight line, which stays inside [-1, 1].
    """
    import torch

    check_noise_kind(kind)
    if start.shape != end.shape or start.dim() != 2:
        raise ValueError(f"start and end must both be (W, nz), got {tuple(start.shape)} and {tuple(end.shape)}")
    if frames < 2:
        raise ValueError(f"frames must be >= 2, got {frames}")
    t = torch.linspace(0, 1, frames, dtype=start.dtype, device=start.device).view(1, frames, 1)
    a, b = start.unsqueeze(1), end.unsqueeze(1)  # (W, 1, nz)
    if kind == "uniform":
        return a + t * (b - a)
    cos = (torch.nn.functional.normalize(a, dim=-1) * torch.nn.functional.normalize(b, dim=-1)).sum(-1, keepdim=True)
    omega = torch.acos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    sin = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / sin) * a + (torch.sin(t * omega) / sin) * b
