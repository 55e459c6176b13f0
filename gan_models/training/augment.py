"""DiffAugment: the same random, differentiable transformations on every image D sees, real and fake.

Zhao, Liu, Lin, Zhu and Han 2020, "Differentiable Augmentation for Data-Efficient GAN Training":
augmenting only the real images teaches G the augmentations, and augmenting nothing lets D memorise
a small training set; transforming real and fake images alike, in D's steps and in G's (whose gradient
flows back through the transformation), keeps D from overfitting without changing what G learns to draw.
The three transformations follow the authors' DiffAugment_pytorch.py, each drawn per image:
  color:       brightness + U(-0.5, 0.5), then saturation x U(0, 2), then contrast x U(0.5, 1.5);
  translation: a shift of up to 1/8 of the height and width, zeros moving in;
  cutout:      one square of half the height and width set to zero, its centre anywhere in the image.
Images are (N, C, H, W) in [-1, 1] (zero is mid-grey). Randomness comes from the caller's torch.Generator,
so a resumed training run draws exactly what the uninterrupted one drew.

`diff_augment_with_probability` applies each transformation to each image with probability p instead of
always: what adaptive discriminator augmentation (gan_models.training.ada) tunes.
"""
import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


def parse_policy(policy: str) -> tuple[str, ...]:
    """The transformations a comma-separated policy names, in order ("" names none); ValueError for others."""
    names = tuple(name.strip() for name in policy.split(",") if name.strip())
    unknown = [name for name in names if name not in POLICIES]
    if unknown or len(set(names)) != len(names):
        raise ValueError(f"diffaugment policy {policy!r}: give each of {', '.join(POLICIES)} at most once, "
                         "comma-separated (e.g. translation,cutout)")
    return names


def diff_augment(images: torch.Tensor, policy: tuple[str, ...], generator: torch.Generator) -> torch.Tensor:
    """`images` (N, C, H, W) with each transformation of `policy` applied in turn (see the module docstring)."""
    for name in policy:
        images = _TRANSFORMS[name](images, generator)
    return images


def diff_augment_with_probability(images: torch.Tensor, policy: tuple[str, ...], p: float,
                                  generator: torch.Generator) -> torch.Tensor:
    """`images` (N, C, H, W) with each transformation of `policy` applied to each image with probability `p` in [0, 1].

    One Bernoulli(p) mask per transformation and image, (len(policy), N), is drawn first, then the
    transformations as `diff_augment` draws them; an image a mask leaves out keeps its input (and its gradient).
    At p = 0 nothing is drawn and `images` come back as they are.
    """
    if p == 0:
        return images
    chosen = torch.rand(len(policy), images.shape[0], generator=generator, device=images.device) < p  # (T, N)
    for name, mask in zip(policy, chosen, strict=True):
        images = torch.where(mask[:, None, None, None], _TRANSFORMS[name](images, generator), images)
    return images


def _per_image(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One U(0, 1) draw per image, shaped (N, 1, 1, 1) to scale it."""
    return torch.rand(images.shape[0], 1, 1, 1, generator=generator, device=images.device, dtype=images.dtype)


def _color(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    images = images + (_per_image(images, generator) - 0.5)
    mean = images.mean(dim=1, keepdim=True)
    images = (images - mean) * (_per_image(images, generator) * 2) + mean
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return (images - mean) * (_per_image(images, generator) + 0.5) + mean


def _translation(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n, _, height, width = images.shape
    shift_h, shift_w = int(height * 0.125 + 0.5), int(width * 0.125 + 0.5)
    dy = torch.randint(-shift_h, shift_h + 1, (n, 1), generator=generator, device=images.device)
    dx = torch.randint(-shift_w, shift_w + 1, (n, 1), generator=generator, device=images.device)
    padded = F.pad(images, [shift_w, shift_w, shift_h, shift_h])
    rows = torch.arange(height, device=images.device) + shift_h - dy  # (N, H): output row r reads row r - dy
    cols = torch.arange(width, device=images.device) + shift_w - dx  # (N, W)
    picked = padded.permute(0, 2, 3, 1)[torch.arange(n, device=images.device)[:, None, None], rows[:, :, None],
                                        cols[:, None, :]]  # (N, H, W, C)
    return picked.permute(0, 3, 1, 2)


def _cutout(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n, _, height, width = images.shape
    size_h, size_w = int(height * 0.5 + 0.5), int(width * 0.5 + 0.5)
    top = torch.randint(0, height + (1 - size_h % 2), (n, 1), generator=generator, device=images.device) - size_h // 2
    left = torch.randint(0, width + (1 - size_w % 2), (n, 1), generator=generator, device=images.device) - size_w // 2
    rows, cols = torch.arange(height, device=images.device), torch.arange(width, device=images.device)
    in_rows = (rows >= top) & (rows < top + size_h)  # (N, H)
    in_cols = (cols >= left) & (cols < left + size_w)  # (N, W)
    keep = ~(in_rows[:, :, None] & in_cols[:, None, :])  # (N, H, W)
    return images * keep[:, None].to(images.dtype)


_TRANSFORMS = {"color": _color, "translation": _translation, "cutout": _cutout}
