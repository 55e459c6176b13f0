"""Drawing many images from a generator in bounded memory, and latent-space walks."""
import torch

from gan_models.nets.base import GeneratorBase
from gan_models.noise import interpolate_latents, sample_noise


@torch.no_grad()
def generate(generator: GeneratorBase, n: int, seed: int = 0, batch_size: int = 256) -> torch.Tensor:
    """`n` images as uint8 (n, C, H, W), generated `batch_size` at a time in eval mode.

    Memory holds one float batch plus the uint8 result (one byte per pixel), so large `n` is fine.
    The latents come from one torch.Generator seeded with `seed`: the first k images are the same
    whatever n is.
    """
    from gan_models.data import to_uint8

    if n < 1 or batch_size < 1:
        raise ValueError(f"n and batch_size must be >= 1, got n={n}, batch_size={batch_size}")
    device = next(generator.parameters()).device
    rng = torch.Generator().manual_seed(seed)
    was_training = generator.training
    generator.eval()
    try:
        out = torch.empty((n, *generator.image_shape), dtype=torch.uint8)
        for start in range(0, n, batch_size):
            z = sample_noise(min(batch_size, n - start), generator.nz, generator.noise, generator=rng)
            out[start:start + len(z)] = to_uint8(generator(z.to(device)).cpu())
        return out
    finally:
        generator.train(was_training)


@torch.no_grad()
def latent_walks(generator: GeneratorBase, walks: int, frames: int = 8, seed: int = 0) -> torch.Tensor:
    """`walks` interpolations of `frames` images each between random latent pairs: (walks * frames, C, H, W) in [-1, 1].

    Row-major: one walk per row when tiled with nrow=frames.
    """
    if walks < 1:
        raise ValueError(f"walks must be >= 1, got {walks}")
    rng = torch.Generator().manual_seed(seed)
    ends = sample_noise(2 * walks, generator.nz, generator.noise, generator=rng)
    z = interpolate_latents(ends[:walks], ends[walks:], frames, generator.noise).reshape(walks * frames, generator.nz)
    device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    try:
        return generator(z.to(device)).cpu()
    finally:
        generator.train(was_training)
