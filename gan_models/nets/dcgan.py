"""Deep convolutional GANs (Radford et al., arXiv 1511.06434).

Two sizes:
- 28 x 28 (the course assignment): the InfoGAN generator (Chen et al., arXiv 1606.03657,
  Appendix C.1) and a small convolutional classifier as discriminator. Defaults give
  G 6,580,801 parameters at nz=4 and D 1,102,721.
- 64 x 64 (Radford et al.): all-convolutional, bias-free, BatchNorm, no pooling. With
  ngf = ndf = 64, the default nz and 3 channels: G 3,576,704 and D 2,765,568 parameters.
"""
import torch
from torch import nn

from gan_models.nets.base import DiscriminatorBase, GeneratorBase, init_xavier
from gan_models.specs import NZ_28, NZ_64


def _init_dcgan(module: nn.Module) -> None:
    """Radford et al.'s init: conv weights from N(0, 0.02), BatchNorm scales from N(1, 0.02), shifts 0."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


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


class Generator64(GeneratorBase):
    """DCGAN-64 generator (Radford et al.): z as (nz, 1, 1), transposed convs 4 -> 8 -> 16 -> 32 -> 64.

    Widths 8*ngf, 4*ngf, 2*ngf, ngf, then C; BatchNorm and ReLU between, Tanh at the end; no biases.

    Args:
        nz: latent size (the paper's).
        ngf: base width (64 in the paper).
        channels: output channels (3 for faces, 1 for grayscale data).
        noise: latent distribution the generator is trained with ("normal" or "uniform").

    Shapes: (N, nz) -> (N, channels, 64, 64) in [-1, 1].
    """

    def __init__(self, *, nz: int = NZ_64, ngf: int = 64, channels: int = 3, noise: str = "normal") -> None:
        super().__init__(nz, channels, 64, noise, ngf=ngf)

        def up(c_in: int, c_out: int, stride: int, padding: int) -> list[nn.Module]:
            return [nn.ConvTranspose2d(c_in, c_out, 4, stride, padding, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

        self.net = nn.Sequential(
            nn.Unflatten(1, (nz, 1, 1)),
            *up(nz, 8 * ngf, 1, 0),  # 4 x 4
            *up(8 * ngf, 4 * ngf, 2, 1),  # 8 x 8
            *up(4 * ngf, 2 * ngf, 2, 1),  # 16 x 16
            *up(2 * ngf, ngf, 2, 1),  # 32 x 32
            nn.ConvTranspose2d(ngf, channels, 4, 2, 1, bias=False), nn.Tanh(),  # 64 x 64
        )
        _init_dcgan(self)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Discriminator64(DiscriminatorBase):
    """DCGAN-64 discriminator (Radford et al.): strided convs 64 -> 32 -> 16 -> 8 -> 4, then a 4 x 4 conv to one logit.

    Widths ndf, 2*ndf, 4*ndf, 8*ndf; BatchNorm on all but the first layer; LeakyReLU(0.2); no biases,
    no pooling, no fully connected layer.

    Shapes: (N, channels, 64, 64) -> (N, 1) logits.
    """

    def __init__(self, *, ndf: int = 64, channels: int = 3) -> None:
        super().__init__(channels, 64, ndf=ndf)

        def down(c_in: int, c_out: int, batchnorm: bool) -> list[nn.Module]:
            norm = [nn.BatchNorm2d(c_out)] if batchnorm else []
            return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), *norm, nn.LeakyReLU(0.2)]

        self.net = nn.Sequential(
            *down(channels, ndf, batchnorm=False),  # 32 x 32
            *down(ndf, 2 * ndf, batchnorm=True),  # 16 x 16
            *down(2 * ndf, 4 * ndf, batchnorm=True),  # 8 x 8
            *down(4 * ndf, 8 * ndf, batchnorm=True),  # 4 x 4
            nn.Conv2d(8 * ndf, 1, 4, 1, 0, bias=False),  # 1 x 1
            nn.Flatten(),
        )
        _init_dcgan(self)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
