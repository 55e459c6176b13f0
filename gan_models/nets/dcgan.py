"""Deep convolutional GANs (Radford et al., arXiv 1511.06434).

Two families:
- 28 x 28 (the course assignment): the InfoGAN generator (Chen et al., arXiv 1606.03657,
  Appendix C.1) and a small convolutional classifier as discriminator. Defaults give
  G 6,580,801 parameters at nz=4 and D 1,102,721.
- 32, 64 or 128 (Radford et al.): all-convolutional, bias-free, BatchNorm, no pooling, 4 x 4 at
  the narrow end and one (transposed) conv per doubling, so log2(size) - 1 of them each way;
  the width at 4 x 4 is size / 8 times the base width (8 * ngf at 64, as in the paper). With
  ngf = ndf = 64, the default nz and 3 channels: G 3,576,704 and D 2,765,568 parameters at 64.
  The generator doubles either by the paper's 4 x 4 stride-2 transposed convs, or by resize-convolution
  (Odena et al. 2016, "Deconvolution and checkerboard artifacts", distill.pub): nearest-neighbour
  upsampling then a 3 x 3 conv, which cannot paint the period-2 pattern a stride-2 kernel's uneven
  overlap does (G 2,371,136 parameters at 64).
"""
from itertools import pairwise

import torch
from torch import nn

from gan_models.choices import DEFAULT_UPSAMPLE, check_upsample
from gan_models.nets.base import DiscriminatorBase, GeneratorBase, init_xavier
from gan_models.specs import DCGAN_SIZES, NZ_28, NZ_64


def _widths(base: int, image_size: int) -> list[int]:
    """Channel widths from the 4 x 4 end to half the image size: base * size / 8, halving per doubling, to base.

    ValueError unless `image_size` is one of DCGAN_SIZES.
    """
    if image_size not in DCGAN_SIZES:
        raise ValueError(f"image_size must be one of {', '.join(map(str, DCGAN_SIZES))} for Radford et al.'s DCGAN, "
                         f"got {image_size!r}")
    return [base * image_size // 8 // 2**i for i in range(image_size.bit_length() - 3)]  # at 4, 8, ... size / 2


def _init_dcgan(module: nn.Module) -> None:
    """Radford et al.'s init: conv weights from N(0, 0.02), BatchNorm scales from N(1, 0.02), shifts 0."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


def doubling(c_in: int, c_out: int, upsample: str) -> list[nn.Module]:
    """The bias-free layers that double a feature map, (N, c_in, H, W) -> (N, c_out, 2H, 2W).

    "transpose": ConvTranspose2d(c_in, c_out, 4, 2, 1), Radford et al.'s. Its output pixels take 2 x 2 of the
    16 kernel taps each, a different 2 x 2 by the parity of the row and column, so even a constant input comes
    out as a period-2 pattern (a checkerboard) unless training makes the four tap sums equal.
    "resize": Upsample(scale_factor=2, mode="nearest") then Conv2d(c_in, c_out, 3, 1, 1) (Odena et al. 2016):
    every output pixel sees the same taps, so a constant input stays constant away from the zero-padded border.
    ValueError for another `upsample`.
    """
    if check_upsample(upsample) == "transpose":
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)]
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False)]


class Generator28(GeneratorBase):
    """DCGAN-28 generator (InfoGAN, Appendix C.1).

    Linear(nz, 16*ngf) - ReLU - BatchNorm1d - Linear(16*ngf, 7*7*2*ngf) - ReLU - BatchNorm1d -
    reshape (2*ngf, 7, 7) - ConvTranspose2d(2*ngf, ngf, 4, 2, 1) - ReLU - BatchNorm2d -
    ConvTranspose2d(ngf, C, 4, 2, 1) - Tanh. With ngf=64 the widths are the paper's 1024/128/64.

    Args:
        nz: latent size.
        ngf: base width.
        channels: output channels (1 or 3).
        noise: latent distribution the generator is trained with ("normal" or "uniform").

    Shapes: (N, nz) -> (N, channels, 28, 28) in [-1, 1].
    """

    def __init__(self, *, nz: int = NZ_28, ngf: int = 64, channels: int = 1, noise: str = "normal") -> None:
        super().__init__(nz, channels, 28, noise, ngf=ngf)
        self.project = nn.Sequential(
            nn.Linear(nz, 16 * ngf), nn.ReLU(), nn.BatchNorm1d(16 * ngf),
            nn.Linear(16 * ngf, 7 * 7 * 2 * ngf), nn.ReLU(), nn.BatchNorm1d(7 * 7 * 2 * ngf),
            nn.Unflatten(1, (2 * ngf, 7, 7)),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * ngf, ngf, 4, stride=2, padding=1), nn.ReLU(), nn.BatchNorm2d(ngf),  # 14 x 14
            nn.ConvTranspose2d(ngf, channels, 4, stride=2, padding=1), nn.Tanh(),  # 28 x 28
        )
        init_xavier(self)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.upsample(self.project(z))


class Discriminator28(DiscriminatorBase):
    """DCGAN-28 discriminator (the assignment's conv classifier).

    Conv2d(C, ndf, 5) - LeakyReLU(0.01) - MaxPool(2) - Conv2d(ndf, 2*ndf, 5) - LeakyReLU(0.01) -
    MaxPool(2) - Flatten - Linear(4*4*2*ndf, 32*ndf) - LeakyReLU(0.01) - Linear(32*ndf, 1).
    With ndf=32 the widths are the assignment's 32/64/1024.

    Shapes: (N, channels, 28, 28) -> (N, 1) logits.
    """

    def __init__(self, *, ndf: int = 32, channels: int = 1) -> None:
        super().__init__(channels, 28, ndf=ndf)
        self.net = nn.Sequential(
            nn.Conv2d(channels, ndf, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2, 2),  # 12 x 12
            nn.Conv2d(ndf, 2 * ndf, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2, 2),  # 4 x 4
            nn.Flatten(),
            nn.Linear(4 * 4 * 2 * ndf, 32 * ndf), nn.LeakyReLU(0.01),
            nn.Linear(32 * ndf, 1),
        )
        init_xavier(self)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Generator(GeneratorBase):
    """DCGAN generator (Radford et al.): z as (nz, 1, 1), a transposed conv to 4 x 4, then doubling to the image size.

    Widths from 4 x 4 on: size/8 * ngf, halving per doubling, to ngf at half the size, then C (at 64:
    8*ngf, 4*ngf, 2*ngf, ngf, C); BatchNorm and ReLU between, Tanh at the end; no biases. Each doubling is
    `doubling(c_in, c_out, upsample)`: the paper's ConvTranspose2d(4, 2, 1), or nearest-neighbour Upsample(2) then
    Conv2d(3, 1, 1) (resize-convolution, Odena et al. 2016). The first layer, 1 x 1 -> 4 x 4 (ConvTranspose2d(4, 1,
    0)), is the same in both: from a single pixel it has no overlap to be uneven. At nz=100, ngf=64, 3 channels and
    64 x 64: 3,576,704 parameters with "transpose", 2,371,136 with "resize" (3 x 3 kernels instead of 4 x 4).

    Args:
        nz: latent size (the paper's).
        ngf: base width (64 in the paper).
        channels: output channels (3 for faces, 1 for grayscale data).
        noise: latent distribution the generator is trained with ("normal" or "uniform").
        image_size: 32, 64 or 128 (log2(size) - 1 transposed convs, or 1 and log2(size) - 2 resize-convolutions).
        upsample: "transpose" (the paper's, the default) or "resize" (the shipped emoji weights'); ValueError
            for another.

    Shapes: (N, nz) -> (N, channels, image_size, image_size) in [-1, 1].
    """

    def __init__(self, *, nz: int = NZ_64, ngf: int = 64, channels: int = 3, noise: str = "normal",
                 image_size: int = 64, upsample: str = DEFAULT_UPSAMPLE) -> None:
        super().__init__(nz, channels, image_size, noise, ngf=ngf)
        widths = _widths(ngf, image_size)

        def up(c_in: int, c_out: int) -> list[nn.Module]:
            return [*doubling(c_in, c_out, upsample), nn.BatchNorm2d(c_out), nn.ReLU()]

        # The module order (and so the state dict's keys) of the 64 x 64 "transpose" network is the one its shipped
        # weights have.
        self.net = nn.Sequential(
            nn.Unflatten(1, (nz, 1, 1)),
            nn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU(),  # 4 x 4
            *(layer for c_in, c_out in pairwise(widths) for layer in up(c_in, c_out)),  # 8 ... size / 2
            *doubling(ngf, channels, upsample), nn.Tanh(),  # size x size
        )
        _init_dcgan(self)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Discriminator(DiscriminatorBase):
    """DCGAN discriminator (Radford et al.): strided convs halving the image size down to 4 x 4, then a 4 x 4 conv to
    one logit.

    Widths ndf, 2*ndf, ... to size/8 * ndf at 4 x 4 (at 64: ndf, 2*ndf, 4*ndf, 8*ndf); BatchNorm on all but
    the first layer; LeakyReLU(0.2); no biases, no pooling, no fully connected layer.

    Args:
        ndf: base width (64 in the paper).
        channels: input channels (1 or 3).
        image_size: 32, 64 or 128 (log2(size) - 1 convs).

    Shapes: (N, channels, image_size, image_size) -> (N, 1) logits.
    """

    def __init__(self, *, ndf: int = 64, channels: int = 3, image_size: int = 64) -> None:
        super().__init__(channels, image_size, ndf=ndf)
        widths = _widths(ndf, image_size)[::-1]  # ndf at size / 2 ... size/8 * ndf at 4 x 4

        def down(c_in: int, c_out: int, batchnorm: bool) -> list[nn.Module]:
            norm = [nn.BatchNorm2d(c_out)] if batchnorm else []
            return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), *norm, nn.LeakyReLU(0.2)]

        self.net = nn.Sequential(
            *down(channels, ndf, batchnorm=False),  # size / 2
            *(layer for c_in, c_out in pairwise(widths) for layer in down(c_in, c_out, batchnorm=True)),  # ... 4 x 4
            nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False),  # 1 x 1
            nn.Flatten(),
        )
        _init_dcgan(self)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
