"""Fully connected GAN networks (Goodfellow et al., arXiv 1406.2661).

The architecture is the course assignment's: a three-layer MLP on flattened 28 x 28 images.
LSGAN (Mao et al., arXiv 1611.04076) changes only the loss, so it reuses these networks.
With the defaults, the discriminator has 267,009 parameters and the generator 1,858,320 at
nz=4 (1,952,528 at the default nz).
"""
import torch
from torch import nn

from gan_models.nets.base import DiscriminatorBase, GeneratorBase, check_dropout, init_xavier
from gan_models.specs import NZ_28


class Generator(GeneratorBase):
    """FC-GAN generator: Linear(nz, ngf) - ReLU - Linear(ngf, ngf) - ReLU - Linear(ngf, C*H*W) - Tanh.

    Args:
        nz: latent size.
        ngf: hidden width (1024 in the assignment).
        image_size: output height and width.
        channels: output channels (1 or 3).
        dropout: dropout probability after each hidden activation (the lecture variant); 0 disables.
        noise: latent distribution the generator is trained with ("normal" or "uniform").

    Shapes: (N, nz) -> (N, channels, image_size, image_size) in [-1, 1].
    """

    def __init__(self, *, nz: int = NZ_28, ngf: int = 1024, image_size: int = 28, channels: int = 1,
                 dropout: float = 0.0, noise: str = "normal") -> None:
        super().__init__(nz, channels, image_size, noise, ngf=ngf)
        self.net = nn.Sequential(
            nn.Linear(nz, ngf), nn.ReLU(), nn.Dropout(check_dropout(dropout)),
            nn.Linear(ngf, ngf), nn.ReLU(), nn.Dropout(check_dropout(dropout)),
            nn.Linear(ngf, channels * image_size * image_size), nn.Tanh(),
        )
        init_xavier(self)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.image_shape)  # (N, C, H, W)


class Discriminator(DiscriminatorBase):
    """FC-GAN discriminator: Linear(C*H*W, ndf) - LeakyReLU(0.01) - Linear(ndf, ndf) - LeakyReLU(0.01) - Linear(ndf, 1).

    Args:
        ndf: hidden width (256 in the assignment).
        image_size: input height and width.
        channels: input channels (1 or 3).
        dropout: dropout probability after each hidden activation (the lecture variant); 0 disables.

    Shapes: (N, channels, image_size, image_size) -> (N, 1) logits.
    """

    def __init__(self, *, ndf: int = 256, image_size: int = 28, channels: int = 1, dropout: float = 0.0) -> None:
        super().__init__(channels, image_size, ndf=ndf)
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * image_size * image_size, ndf), nn.LeakyReLU(0.01), nn.Dropout(check_dropout(dropout)),
            nn.Linear(ndf, ndf), nn.LeakyReLU(0.01), nn.Dropout(check_dropout(dropout)),
            nn.Linear(ndf, 1),
        )
        init_xavier(self)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
