"""The models gan-models knows, as data: names, defaults and where their networks live, without torch.

This module imports nothing heavy, so the command line can list the models and build its help
before torch is loaded; each spec imports its network module only when its classes are asked for.
The defaults here are the ones the trainer fills in (see gan_models.training.config); the network
constructors take their `nz` defaults from NZ_28 and NZ_64 here, so the two cannot disagree.
The torch.hub entry points (gan_models.hub, ENTRY_POINTS) are made from these specs, one generator
and one discriminator per model.
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
    dataset: str  # the shipped weights a hub entry point loads when pretrained=True names no dataset
    summary: str  # one line for listings and help

    @property
    def generator(self) -> type:
        """The generator class (a gan_models.nets.base.GeneratorBase); imports torch."""
        return getattr(importlib.import_module(f"gan_models.nets.{self.networks}"), self.generator_class)

    @property
    def discriminator(self) -> type:
        """The discriminator class (a gan_models.nets.base.DiscriminatorBase); imports torch."""
        return getattr(importlib.import_module(f"gan_models.nets.{self.networks}"), self.discriminator_class)


NZ_28 = 96  # latent size of the 28 x 28 models: the course assignment's
NZ_64 = 100  # latent size of DCGAN-64: Radford et al.'s
# Radford et al. train DCGAN-64 with lr 2e-4; the assignment uses 1e-3 for the 28 x 28 models.
MODELS = {
    spec.name: spec
    for spec in (
        ModelSpec("fcgan", "fc", "Generator", "Discriminator", "vanilla", NZ_28, 1e-3, 1e-3, "mnist",
                  "fully connected GAN, 28 x 28 (Goodfellow et al. 2014)"),
        ModelSpec("lsgan", "fc", "Generator", "Discriminator", "lsgan", NZ_28, 1e-3, 1e-3, "mnist",
                  "least-squares GAN on the fully connected networks, 28 x 28 (Mao et al. 2016)"),
        ModelSpec("dcgan", "dcgan", "Generator28", "Discriminator28", "vanilla", NZ_28, 1e-3, 1e-3, "mnist",
                  "DCGAN with the InfoGAN generator, 28 x 28 (Radford et al. 2015; Chen et al. 2016)"),
        ModelSpec("dcgan64", "dcgan", "Generator64", "Discriminator64", "vanilla", NZ_64, 2e-4, 2e-4, "emoji",
                  "DCGAN, 64 x 64, 1 or 3 channels (Radford et al. 2015)"),
    )
}


def discriminator_entry_point(model: str) -> str:
    """The torch.hub name of `model`'s discriminator: "<model>_discriminator" (the generator's is the model's name)."""
    return f"{model}_discriminator"


# The eight torch.hub entry points, each model's generator then its discriminator: hubconf.py, gan_models.hub and
# the package's public names all read this tuple.
ENTRY_POINTS = tuple(name for model in MODELS for name in (model, discriminator_entry_point(model)))


def get_spec(name: str) -> ModelSpec:
    """The ModelSpec called `name`; raises ValueError naming the choices for an unknown one."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name]
