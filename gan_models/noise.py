"""Latent noise: the one place that decides how `z` is drawn.

The assignment draws z uniformly from [-1, 1]; the lectures draw it from a standard normal,
which trains better in practice and is our default. Generators remember which one they were
trained with (their `noise` attribute), so sampling and training always agree. The names and
seed rules import no torch (the command line's help uses them); the samplers import it when called.

Truncation (Brock et al. 2018, "Large Scale GAN Training", arXiv 1809.11096, section 3.1) trades
variety for fidelity: every component of z further than psi standard deviations from 0 is drawn
again until none is. psi is counted in each distribution's own standard deviation, 1 for normal noise
and 1/sqrt(3) for uniform noise on [-1, 1], so one psi keeps a similar share of either: psi = 1 keeps
|z_i| <= 1 (68% of a normal) or |z_i| <= 0.577 (58% of a uniform); psi >= sqrt(3) truncates no
uniform noise.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

NOISE_KINDS = ("normal", "uniform")
NOISE_STD = {"normal": 1.0, "uniform": 3 ** -0.5}  # a standard normal's; a uniform's on [-1, 1]: 2 / sqrt(12)
INTERPOLATIONS = ("slerp", "linear")  # latent walks: along the great circle, or along the straight line
MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed takes seeds 0 .. 2**64 - 1 (and raises "Overflow" beyond)


def as_seed(value: int) -> int:
    """A seed derived by arithmetic (seed + epoch, ...) folded into torch's range 0 .. MAX_SEED."""
    return value % (MAX_SEED + 1)


def check_noise_kind(kind: str) -> str:
    """Return `kind` if it names a known noise distribution, else raise ValueError."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise {kind!r}; choose one of {list(NOISE_KINDS)}")
    return kind


def check_truncation(psi: float | None) -> float | None:
    """Return `psi` (None: no truncation) if it is a finite number > 0, else raise TypeError/ValueError."""
    if psi is None:
        return None
    if isinstance(psi, bool) or not isinstance(psi, (int, float)):
        raise TypeError(f"truncation must be a number (psi, in standard deviations), got {psi!r}")
    if not 0 < psi < float("inf"):
        raise ValueError(f"truncation must be a finite number > 0 (psi, in standard deviations), got {psi}")
    return float(psi)


def truncation_bound(kind: str, psi: float) -> float:
    """The largest |z_i| that truncation at `psi` standard deviations keeps: psi (normal), psi / sqrt(3) (uniform)."""
    return check_truncation(psi) * NOISE_STD[check_noise_kind(kind)]


def sample_noise(n: int, nz: int, kind: str = "normal", *, generator: torch.Generator | None = None,
                 device: torch.device | str | None = None, truncation: float | None = None) -> torch.Tensor:
    """Draw a latent batch of shape (n, nz), float32.

    Args:
        n: batch size, >= 0.
        nz: latent size, >= 1.
        kind: "normal" (standard normal) or "uniform" (uniform on [-1, 1]).
        generator: optional torch.Generator for reproducible draws (must live on `device`).
        device: where the tensor is created (and drawn: CPU and CUDA draw different numbers from one seed).
        truncation: psi > 0, or None. Components with |z_i| > psi standard deviations of `kind`
            (`truncation_bound`) are drawn again, from the same generator, until none is left; the
            others keep their values. So the result follows `kind` conditioned on |z_i| <= bound
            (normal: a truncated normal; uniform: uniform on [-bound, bound]), one draw per seed.
    """
    check_noise_kind(kind)
    if n < 0 or nz < 1:
        raise ValueError(f"need n >= 0 and nz >= 1, got n={n}, nz={nz}")
    z = _draw((n, nz), kind, generator, device)
    if truncation is None:
        return z
    bound = truncation_bound(kind, truncation)
    # Each round redraws what is still outside; small psi costs more rounds (psi = 0.1: about 100), not more memory.
    while (outside := z.abs() > bound).any():
        z[outside] = _draw((int(outside.sum()),), kind, generator, device)
    return z


def _draw(shape: tuple[int, ...], kind: str, generator, device) -> torch.Tensor:
    """Standard normal, or uniform on [-1, 1], float32 of `shape`."""
    import torch

    if kind == "normal":
        return torch.randn(shape, generator=generator, device=device)
    return torch.rand(shape, generator=generator, device=device).mul_(2).sub_(1)


def check_interpolation(kind: str, method: str | None) -> str:
    """The interpolation of a walk through `kind` noise: `method`, or by default "slerp" for normal and "linear"
    for uniform noise. ValueError for an unknown method, or "slerp" through uniform noise (it leaves [-1, 1])."""
    check_noise_kind(kind)
    method = ("slerp" if kind == "normal" else "linear") if method is None else method
    if method not in INTERPOLATIONS:
        raise ValueError(f"unknown interpolation {method!r}; choose one of {list(INTERPOLATIONS)}")
    if method == "slerp" and kind == "uniform":
        raise ValueError("slerp walks uniform noise out of [-1, 1] (the midpoint of (1, 1) and (1, -1) is (1.41, 0)); "
                         "use linear interpolation")
    return method


def interpolate_latents(start: torch.Tensor, end: torch.Tensor, frames: int, kind: str = "normal",
                        method: str | None = None) -> torch.Tensor:
    """Latent walks from `start` to `end` (both (W, nz)): returns (W, frames, nz), endpoints included.

    `method` "slerp" walks along the great circle (spherical interpolation, the default for normal
    noise), which keeps the norm typical of Gaussian samples where the straight line would pass
    through the low-norm middle that a Gaussian almost never draws; "linear" walks the straight
    line (the default, and the only one, for uniform noise, which it keeps inside [-1, 1]).
    """
    import torch

    method = check_interpolation(kind, method)
    if start.shape != end.shape or start.dim() != 2:
        raise ValueError(f"start and end must both be (W, nz), got {tuple(start.shape)} and {tuple(end.shape)}")
    if frames < 2:
        raise ValueError(f"frames must be >= 2, got {frames}")
    t = torch.linspace(0, 1, frames, dtype=start.dtype, device=start.device).view(1, frames, 1)
    a, b = start.unsqueeze(1), end.unsqueeze(1)  # (W, 1, nz)
    if method == "linear":
        return a + t * (b - a)
    cos = (torch.nn.functional.normalize(a, dim=-1) * torch.nn.functional.normalize(b, dim=-1)).sum(-1, keepdim=True)
    omega = torch.acos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    sin = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / sin) * a + (torch.sin(t * omega) / sin) * b
