"""A small class-conditional generator with the interface the conditional models promise.

`G(z, labels)`: z float32 (N, nz), labels int64 (N,) in [0, num_classes) -> images (N, 1, 28, 28)
in [-1, 1]; `num_classes` and `classes` name the classes. An nn.Embedding of the label is joined
to z, then an FC network with BatchNorm (so eval mode matters) draws the image. Export and
validation are tested on it until the real conditional generators land in the registry.
"""
import torch
from torch import nn

from gan_models.nets.base import GeneratorBase, check_input


class ConditionalStandIn(GeneratorBase):
    """Label embedding joined to z, two Linear layers with BatchNorm, tanh image (1, 28, 28)."""

    def __init__(self, nz: int = 16, num_classes: int = 3, embed: int = 4, ngf: int = 32) -> None:
        super().__init__(nz, channels=1, image_size=28, noise="normal", ngf=ngf)
        self.num_classes = num_classes
        self.classes = tuple(f"class, {index}" for index in range(num_classes))  # commas survive the metadata
        self.embed = nn.Embedding(num_classes, embed)
        self.net = nn.Sequential(nn.Linear(nz + embed, ngf), nn.BatchNorm1d(ngf), nn.ReLU(),
                                 nn.Linear(ngf, 28 * 28), nn.Tanh())

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(N, nz) latents and (N,) int64 labels -> (N, 1, 28, 28) in [-1, 1]."""
        check_input(z, ("N", self.nz), "latent z", self)
        return self.net(torch.cat([z, self.embed(labels).to(z.dtype)], dim=1)).view(-1, 1, 28, 28)


def trained_standin(**kwargs) -> ConditionalStandIn:
    """A stand-in with non-trivial BatchNorm statistics, as after training, in eval mode."""
    torch.manual_seed(0)
    generator = ConditionalStandIn(**kwargs)
    with torch.no_grad():
        for _ in range(3):
            generator(torch.randn(32, generator.nz), torch.randint(generator.num_classes, (32,)))
    return generator.eval()
