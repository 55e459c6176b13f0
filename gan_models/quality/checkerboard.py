"""How much of an image is checkerboard: the share of its spectral power at the 2-D DFT's Nyquist frequencies.

A stride-2 transposed conv paints a period-2 pattern (Odena et al. 2016, "Deconvolution and checkerboard
artifacts", distill.pub): a pattern that repeats every 2 pixels down, across or both lives at the frequencies
(pi, 0), (0, pi) and (pi, pi) alone, so their share of the power measures it. Natural images hold little
there: their power falls with frequency.
"""
import torch


def checkerboard_energy(images: torch.Tensor) -> float:
    """The share of each image's spectral power at the Nyquist frequencies (pi, 0), (0, pi), (pi, pi), averaged.

    Each channel's mean is removed first, so brightness does not count; an image's share is its power at the
    three frequencies, summed over channels, over its total power, also summed over channels (a constant image
    has none: its share is defined as 0).

    Args:
        images: (N, C, H, W) in [-1, 1], H and W even (so that the Nyquist frequencies are DFT bins).

    Returns:
        A float in [0, 1]: 1.0 for a pure +-1 checkerboard, about 0 for a smooth image.

    Raises:
        ValueError: not a 4-D tensor of at least one image, or an odd height or width.
    """
    if images.dim() != 4 or images.shape[0] == 0:
        raise ValueError(f"images must have shape (N, C, H, W) with N >= 1, got {tuple(images.shape)}")
    height, width = images.shape[-2:]
    if height % 2 or width % 2:
        raise ValueError(f"images must have an even height and width (Nyquist bins), got {height} x {width}")
    pixels = images.double()
    pixels = pixels - pixels.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(pixels).abs().square()  # (N, C, H, W)
    nyquist = power[..., height // 2, 0] + power[..., 0, width // 2] + power[..., height // 2, width // 2]  # (N, C)
    total = power.sum(dim=(-2, -1)).sum(dim=1)  # (N,); by Parseval H * W times the sum of squared deviations
    # Removing the mean of a constant leaves rounding residue (about 1e-16): an image whose pixels all lie within
    # 1e-9 of their channel's mean (1/10^7 of an 8-bit level) counts as constant, its share as 0.
    constant = total <= height * width * pixels[0].numel() * 1e-18
    share = torch.where(constant, 0.0, nyquist.sum(dim=1) / torch.where(constant, 1.0, total))
    return share.mean().item()
