"""Class-conditional versions of every network: G(z, y) and D(x, y).

Both wrap an unconditional network (the "body") of gan_models.nets.fc or gan_models.nets.dcgan,
so each conditional model is its unconditional paper's architecture plus a label pathway:

- Generator (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets", arXiv 1411.1784):
  the label y goes through a learned embedding E (num_classes x embed_dim) and is joined to z,
  G(z, y) = body([z, E[y]]); the body is built for a latent of nz + embed_dim. The embedding's
  default size is num_classes (a learned version of the paper's one-hot y), and its N(0, 1)
  initialisation matches the scale of normal z.
- Discriminator: the projection discriminator (Miyato & Koyama 2018, "cGANs with Projection
  Discriminator", arXiv 1802.05637, eq. 3): D(x, y) = psi(phi(x)) + <V[y], phi(x)>, where phi is the
  body up to its output layer psi (flattened to F features) and V a learned num_classes x F
  embedding. We measured it against an auxiliary classifier (AC-GAN, Odena et al. 2017,
  arXiv 1610.09585) at equal budgets; the figures and the reason for the choice are in the README.

Parameter counts: G = body(nz + embed_dim) + num_classes * embed_dim; D = body + num_classes * F,
with F = ndf (FC), 32 * ndf (DCGAN-28) or 8 * ndf * 4 * 4 (DCGAN-64).
"""
import inspect
from collections.abc import Sequence

import torch
from torch import nn

from gan_models.nets.base import (
    DiscriminatorBase,
    GeneratorBase,
    as_output,
    check_input,
    check_output,
    check_sizes,
    eval_mode,
)
from gan_models.nets.labels import check_classes, check_labels, resolve_labels


class ConditionalGenerator(GeneratorBase):
    """Class-conditional generator G(z, y) = body([z, E[y]]) (Mirza & Osindero 2014).

    Args:
        body: the unconditional generator class (e.g. gan_models.nets.dcgan.Generator28).
        num_classes: number of classes (default: len(classes), else 10).
        classes: class names, e.g. ("T-shirt/top", ..., "Ankle boot"); default "0", "1", ...
        embed_dim: size of the label embedding joined to z; default num_classes.
        **body_kwargs: the body's keywords (nz, ngf, channels, noise, ...); nz is the size of z alone.

    Shapes: z (N, nz) float, labels (N,) int64 in 0..num_classes-1 -> (N, C, H, W) in [-1, 1].
    """

    def __init__(self, body: type[GeneratorBase], *, num_classes: int | None = None,
                 classes: Sequence[str] | None = None, embed_dim: int | None = None, **body_kwargs) -> None:
        classes = check_classes(num_classes, classes)
        embed_dim = len(classes) if embed_dim is None else embed_dim
        nz = body_kwargs.pop("nz", inspect.signature(body).parameters["nz"].default)
        check_sizes(nz=nz, embed_dim=embed_dim)
        net = body(nz=nz + embed_dim, **body_kwargs)
        super().__init__(nz, net.channels, net.image_size, net.noise)
        self.classes, self.num_classes, self.embed_dim = classes, len(classes), embed_dim
        self.embed = nn.Embedding(len(classes), embed_dim)
        self.body = net

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """z (N, nz) and labels (N,) int64 -> images (N, C, H, W) in [-1, 1]; bad labels raise ValueError."""
        check_input(z, ("N", self.nz), "latent z", self)
        check_labels(labels, z.shape[0], self.num_classes, self.embed.weight)
        code = self.embed(labels).to(z.dtype)  # (N, embed_dim)
        return self.body.generate(torch.cat([z, code], dim=1))

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None, *, generator: torch.Generator | None = None, labels=None,
               device: torch.device | str | None = None, output: str = "tensor", truncation: float | None = None):
        """Generate `n` images of the classes `labels` says, in eval mode; GeneratorBase.sample otherwise.

        Args:
            n, seed, generator, device, output, truncation: as for GeneratorBase.sample (noise drawn
                on the CPU by default, in the weights' dtype; output "tensor", "uint8" or "pil").
            labels: a class index (7) or name ("Sneaker", any case) for all n images, a list of n
                indices or names, or an integer tensor; None draws them uniformly, from the same
                torch.Generator as the noise (so they follow the seed too).

        Raises:
            ValueError: an unknown class name, an index out of range, or a count other than n.
        """
        check_output(output)
        z, rng = self._sample_noise(n, seed, generator, device, truncation)
        if labels is None:
            labels = torch.randint(self.num_classes, (n,), generator=rng, device=rng.device).to(z.device)
        else:
            labels = resolve_labels(labels, n, self.classes, z.device)
        with eval_mode(self):
            return as_output(self(z, labels), output)


class ProjectionDiscriminator(DiscriminatorBase):
    """Projection discriminator D(x, y) = psi(phi(x)) + <V[y], phi(x)> (Miyato & Koyama 2018, eq. 3).

    phi is the body's `net` up to its last weighted layer psi, which maps F features to one logit
    (a Linear for FC and DCGAN-28; the final 4 x 4 Conv2d, a linear map of the flattened 8*ndf x 4 x 4
    features, for DCGAN-64). V is initialised Xavier-uniform, as in the authors' code.

    Args:
        body: the unconditional discriminator class; it must keep its layers in `net`.
        num_classes, classes: as for ConditionalGenerator.
        **body_kwargs: the body's keywords (ndf, channels, ...).

    Shapes: images (N, C, H, W) in [-1, 1], labels (N,) int64 -> (N, 1) logits.
    """

    def __init__(self, body: type[DiscriminatorBase], *, num_classes: int | None = None,
                 classes: Sequence[str] | None = None, **body_kwargs) -> None:
        classes = check_classes(num_classes, classes)
        net = body(**body_kwargs)
        super().__init__(net.channels, net.image_size)
        self.classes, self.num_classes = classes, len(classes)
        layers = net.net
        output = max(i for i, layer in enumerate(layers) if isinstance(layer, (nn.Linear, nn.Conv2d)))
        self.features, self.head = layers[:output], layers[output:]  # phi and psi
        # psi maps F features to a single logit, so its weight holds exactly F numbers.
        self.embed = nn.Embedding(len(classes), layers[output].weight.numel())
        nn.init.xavier_uniform_(self.embed.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """images (N, C, H, W) and labels (N,) int64 -> (N, 1) logits; bad labels raise ValueError."""
        check_input(x, ("N", self.channels, self.image_size, self.image_size), "images", self)
        check_labels(labels, x.shape[0], self.num_classes, self.embed.weight)
        phi = self.features(x)  # (N, F) or (N, 8*ndf, 4, 4)
        projection = (self.embed(labels) * phi.flatten(1)).sum(dim=1, keepdim=True)  # (N, 1)
        return self.head(phi) + projection
