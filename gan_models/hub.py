"""torch.hub entry points: keyword-only builders returning plain nn.Modules, made from gan_models.specs.MODELS.

Each model has two: `<model>(*, pretrained=False, dataset=<spec.dataset>, conditional=False, **kwargs)`,
its generator, and `<model>_discriminator(*, pretrained=False, conditional=False, **kwargs)`. Generators
map z (N, nz) to images (N, C, H, W) in [-1, 1]; discriminators map images to logits (N, 1). Extra
keywords go to the network's constructor (see gan_models.nets). `conditional=True` gives the
class-conditional network of the same model instead (gan_models.nets.conditional): G(z, labels) and
D(images, labels), labels int64 (N,). Each builder's docstring (torch.hub.help) is written from its
spec, its network's docstring and signature, and the shipped weight records.
"""
import inspect
import textwrap
from collections.abc import Callable

import torch

from gan_models.nets.base import DiscriminatorBase, GeneratorBase
from gan_models.registry import (
    WEIGHTS,
    NoPretrainedWeightsError,
    build_discriminator,
    build_generator,
    load_pretrained_generator,
)
from gan_models.specs import ENTRY_POINTS, MODELS, ModelSpec, discriminator_entry_point

__all__ = list(ENTRY_POINTS)

CONDITIONAL_GENERATOR = ("the class-conditional generator G(z, labels) (Mirza & Osindero 2014) instead; it has "
                         "`num_classes`, `classes` and samples with G.sample(n, labels=7 or \"Sneaker\"); it also "
                         "takes num_classes (10), classes (names) and embed_dim (num_classes)")
CONDITIONAL_DISCRIMINATOR = ("the projection discriminator D(images, labels) (Miyato & Koyama 2018) around it "
                             "instead; it also takes num_classes (10) and classes (names)")


def _keywords(cls: type) -> str:
    """The constructor's keywords with their defaults, as a builder's docstring lists them: "nz=..., ngf=..."."""
    return ", ".join(f"{name}={p.default!r}" for name, p in inspect.signature(cls).parameters.items())


def _doc(title: str, cls: type, shape: str, keywords: dict[str, str]) -> str:
    """A builder's docstring: `title`, the network's own docstring, the shapes, then the builder's keywords."""
    lines = [title, "", inspect.cleandoc(cls.__doc__), "", f"With the default keywords: {shape}.", "",
             "Builder keywords:"]
    lines += [textwrap.fill(f"{name}: {text}", 100, initial_indent="    ", subsequent_indent="        ")
              for name, text in keywords.items()]
    return "\n".join(lines)


def _generator_entry_point(spec: ModelSpec) -> Callable[..., GeneratorBase]:
    def entry_point(*, pretrained: bool = False, dataset: str = spec.dataset, conditional: bool = False,
                    **kwargs) -> GeneratorBase:
        if pretrained:
            return load_pretrained_generator(spec.name, dataset, conditional=conditional, **kwargs)
        return build_generator(spec.name, conditional=conditional, **kwargs)

    with torch.device("meta"):  # the default image shape, without allocating the weights
        image_shape = spec.generator().image_shape
    shipped = sorted({r.dataset for r in WEIGHTS if r.model == spec.name}) or ["none yet"]
    entry_point.__name__ = entry_point.__qualname__ = spec.name
    entry_point.__doc__ = _doc(
        f"The {spec.summary}: its generator, gan_models.nets.{spec.networks}.{spec.generator_class}.",
        spec.generator, f"(N, nz) -> (N, {', '.join(map(str, image_shape))}) in [-1, 1]",
        {"pretrained": "load shipped weights (eval mode, hash-checked) instead of a fresh, trainable network.",
         "dataset": f"which shipped weights when pretrained: {', '.join(shipped)} (default {spec.dataset}).",
         "conditional": f"{CONDITIONAL_GENERATOR}.",
         "**kwargs": f"the constructor's keywords: {_keywords(spec.generator)}."})
    return entry_point


def _discriminator_entry_point(spec: ModelSpec) -> Callable[..., DiscriminatorBase]:
    def entry_point(*, pretrained: bool = False, conditional: bool = False, **kwargs) -> DiscriminatorBase:
        if pretrained:
            raise NoPretrainedWeightsError(f"only generators ship pretrained weights; {spec.name} discriminators "
                                           "are trainable only (pretrained=False)")
        return build_discriminator(spec.name, conditional=conditional, **kwargs)

    with torch.device("meta"):
        network = spec.discriminator()
    entry_point.__name__ = entry_point.__qualname__ = discriminator_entry_point(spec.name)
    entry_point.__doc__ = _doc(
        f"The {spec.summary}: its discriminator, gan_models.nets.{spec.networks}.{spec.discriminator_class}.",
        spec.discriminator, f"(N, {network.channels}, {network.image_size}, {network.image_size}) in [-1, 1] -> "
                            "(N, 1) logits",
        {"pretrained": "must be False: only generators ship weights (NoPretrainedWeightsError otherwise).",
         "conditional": f"{CONDITIONAL_DISCRIMINATOR}.",
         "**kwargs": f"the constructor's keywords: {_keywords(spec.discriminator)}."})
    return entry_point


for _spec in MODELS.values():
    globals()[_spec.name] = _generator_entry_point(_spec)
    globals()[discriminator_entry_point(_spec.name)] = _discriminator_entry_point(_spec)
del _spec
