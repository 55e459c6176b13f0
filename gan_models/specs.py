"""The models gan-models knows, as data: names, defaults and where their networks live, without torch.

This module imports nothing heavy, so the command line can list the models and build its help
before torch is loaded; each spec imports its network module only when its classes are asked for.
The defaults here are the ones the trainer fills in (see gan_models.training.config); the
constructors' own `nz` defaults agree with `ModelSpec.nz` (tests/test_nets.py checks it).
"""
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    """A named GAN: its two networks, the loss it trains with by default, and its training defaults."""

    name: str
    networks: str  # module in gan_models.nets holding both classes, e.g. "fc"
    generator_class: str  # class name of the generator in that module
    discriminator_class: str  # class name of the discriminator in that module
    loss: str  # default loss, a key of gan_models.losses.LOSSES
    nz: int  # default latent size, as the generator's constructor default
    lr_g: float  # default generator Adam learning rate
    lr_d: float  # default discriminator Adam learning rate
    summary: str  # one line for listings and help

    @property
    def generator(self) -> type:
        """The generator class (a gan_models.nets.base.GeneratorBase); imports torch."""
        return getattr(importlib.import_module(f"gan_models.nets.{self.networks}"), self.generator_class)

    @property
    def discriminator(self) -> type:
        """The discriminator class (a gan_models.nets.base.DiscriminatorBase); imports torch."""
        return getattr(importlib.import_module(f"gan_models.nets.{self.networks}"), self.discriminator_class)


# Radford et al. train DCGAN-64 with lr 2e-4 and nz 100; the assignment uses 1e-3 and nz 96 for the 28 x 28 models.
MODELS = {
    spec.name: spec
    for spec in (
        ModelSpec("fcgan", "fc", "Generator", "Discriminator", "vanilla", 96, 1e-3, 1e-3,
                  "fully connected GAN, 28 x 28 (Goodfellow et al. 2014)"),
        ModelSpec("lsgan", "fc", "Generator", "Discriminator", "lsgan", 96, 1e-3, 1e-3,
                  "least-squares GAN on the fully connected networks, 28 x 28 (Mao et al. 2016)"),
        ModelSpec("dcgan", "dcgan", "Generator28", "Discriminator28", "vanilla", 96, 1e-3, 1e-3,
                  "DCGAN with the InfoGAN generator, 28 x 28 (Radford et al. 2015; Chen et al. 2016)"),
        ModelSpec("dcgan64", "dcgan", "Generator64", "Discriminator64", "vanilla", 100, 2e-4, 2e-4,
                  "DCGAN, 64 x 64, 1 or 3 channels (Radford et al. 2015)"),
    )
}


def get_spec(name: str) -> ModelSpec:
    """The ModelSpec called `name`; raises ValueError naming the choices for an unknown one."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name]
