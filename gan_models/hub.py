"""torch.hub entry points: keyword-only builders returning plain nn.Modules, made from gan_models.specs.MODELS.

Each model has two: `<model>(*, pretrained=False, dataset=None, conditional=False, image_size=None, **kwargs)`,
its generator, and `<model>_discriminator(*, pretrained=False, conditional=False, image_size=None, **kwargs)`.
Generators map z (N, nz) to images (N, C, H, W) in [-1, 1]; discriminators map images to logits (N, 1).
`image_size` picks the model's network of that size (gan_models.specs.sized_spec: dcgan builds 28, 32, 64
and 128; at 64 it is dcgan64). `dataset` picks shipped weights, so it needs pretrained=True. Extra
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
from gan_models.specs import ENTRY_POINTS, IMAGE_SIZES, MODELS, ModelSpec, discriminator_entry_point, sized_spec

__all__ = list(ENTRY_POINTS)

CONDITIONAL_GENERATOR = ("the class-conditional generator G(z, labels) (Mirza & Osindero 2014) instead; it has "
                         "`num_classes`, `classes` and samples with G.sample(n, labels=7 or \"Sneaker\"); it also "
                         "takes num_classes (10), classes (names) and embed_dim (num_classes)")
CONDITIONAL_DISCRIMINATOR = ("the projection discriminator D(images, labels) (Miyato & Koyama 2018) around it "
                             "instead; it also takes num_classes (10) and classes (names)")


def _keywords(cls: type) -> str:
    """The constructor's keywords with their defaults, as a builder's docstring lists them: "nz=..., ngf=..."
    (image_size is the builder's own keyword)."""
    return ", ".join(f"{name}={p.default!r}" for name, p in inspect.signature(cls).parameters.items()
                     if name != "image_size")


def _image_size_doc(spec: ModelSpec, role: str) -> str:
    """The image_size keyword's text: the sizes `spec`'s model builds, and which class builds those its own does not."""
    if spec.name not in IMAGE_SIZES:
        return f"any (default {spec.image_size}), as the constructor's image_size."
    sizes = list(IMAGE_SIZES[spec.name])
    if len(sizes) == 1:
        wider = [f"; {model} builds this network at {', '.join(str(n) for n, m in built.items() if m == spec.name)}"
                 for model, built in IMAGE_SIZES.items() if model != spec.name and spec.name in built.values()]
        return f"{spec.image_size} only{''.join(wider)}."
    others = {}
    for size in sizes:
        built = sized_spec(spec.name, size)
        if built is not spec:
            others.setdefault(built, []).append(str(size))
    return f"{', '.join(map(str, sizes))} (default {spec.image_size})" + "".join(
        f"; {', '.join(at)} build gan_models.nets.{built.networks}.{getattr(built, role).__name__}, {built.name}'s "
        f"network, with its defaults ({_keywords(getattr(built, role))})" for built, at in others.items()) + "."


def _dataset_doc(spec: ModelSpec) -> str:
    """The dataset keyword's text: the shipped weights of each network `spec`'s model builds, and the defaults."""
    sizes = {}
    for size in IMAGE_SIZES.get(spec.name, [spec.image_size]):
        sizes.setdefault(sized_spec(spec.name, size), []).append(str(size))
    parts = []
    for built, at in sizes.items():
        shipped = ", ".join(sorted({r.dataset for r in WEIGHTS if r.model == built.name})) or "none yet"
        where = "" if built is spec else f"at image_size {', '.join(at)}, {built.name}'s: "
        parts.append(f"{where}{shipped} (default {built.dataset})")
    return "; ".join(parts)


def _refuse_dataset(dataset: str | None, pretrained: bool) -> None:
    """ValueError for a dataset without pretrained=True: it names shipped weights, and a fresh network has none."""
    if dataset is not None and not pretrained:
        raise ValueError(f"dataset={dataset!r} picks shipped weights, so it needs pretrained=True; a fresh "
                         "network (pretrained=False) is trained on nothing yet")


def _doc(title: str, cls: type, shape: str, keywords: dict[str, str]) -> str:
    """A builder's docstring: `title`, the network's own docstring, the shapes, then the builder's keywords."""
    lines = [title, "", inspect.cleandoc(cls.__doc__), "", f"With the default keywords: {shape}.", "",
             "Builder keywords:"]
    lines += [textwrap.fill(f"{name}: {text}", 100, initial_indent="    ", subsequent_indent="        ")
              for name, text in keywords.items()]
    return "\n".join(lines)


def _generator_entry_point(spec: ModelSpec) -> Callable[..., GeneratorBase]:
    def entry_point(*, pretrained: bool = False, dataset: str | None = None, conditional: bool = False,
                    image_size: int | None = None, **kwargs) -> GeneratorBase:
        _refuse_dataset(dataset, pretrained)
        if pretrained:
            dataset = sized_spec(spec.name, image_size).dataset if dataset is None else dataset
            return load_pretrained_generator(spec.name, dataset, conditional=conditional, image_size=image_size,
                                             **kwargs)
        return build_generator(spec.name, conditional=conditional, image_size=image_size, **kwargs)

    with torch.device("meta"):  # the default image shape, without allocating the weights
        image_shape = spec.generator().image_shape
    entry_point.__name__ = entry_point.__qualname__ = spec.name
    entry_point.__doc__ = _doc(
        f"The {spec.summary}: its generator, gan_models.nets.{spec.networks}.{spec.generator_class}.",
        spec.generator, f"(N, nz) -> (N, {', '.join(map(str, image_shape))}) in [-1, 1]",
        {"pretrained": "load shipped weights (eval mode, hash-checked) instead of a fresh, trainable network.",
         "dataset": f"which shipped weights, with pretrained=True only: {_dataset_doc(spec)}.",
         "conditional": f"{CONDITIONAL_GENERATOR}.",
         "image_size": f"height and width of the images: {_image_size_doc(spec, 'generator')}",
         "**kwargs": f"the constructor's keywords: {_keywords(spec.generator)}."})
    return entry_point


def _discriminator_entry_point(spec: ModelSpec) -> Callable[..., DiscriminatorBase]:
    def entry_point(*, pretrained: bool = False, conditional: bool = False, image_size: int | None = None,
                    **kwargs) -> DiscriminatorBase:
        if pretrained:
            raise NoPretrainedWeightsError(f"only generators ship pretrained weights; {spec.name} discriminators "
                                           "are trainable only (pretrained=False)")
        return build_discriminator(spec.name, conditional=conditional, image_size=image_size, **kwargs)

    with torch.device("meta"):
        network = spec.discriminator()
    entry_point.__name__ = entry_point.__qualname__ = discriminator_entry_point(spec.name)
    entry_point.__doc__ = _doc(
        f"The {spec.summary}: its discriminator, gan_models.nets.{spec.networks}.{spec.discriminator_class}.",
        spec.discriminator, f"(N, {network.channels}, {network.image_size}, {network.image_size}) in [-1, 1] -> "
                            "(N, 1) logits",
        {"pretrained": "must be False: only generators ship weights (NoPretrainedWeightsError otherwise).",
         "conditional": f"{CONDITIONAL_DISCRIMINATOR}.",
         "image_size": f"height and width of the images: {_image_size_doc(spec, 'discriminator')}",
         "**kwargs": f"the constructor's keywords: {_keywords(spec.discriminator)}."})
    return entry_point


for _spec in MODELS.values():
    globals()[_spec.name] = _generator_entry_point(_spec)
    globals()[discriminator_entry_point(_spec.name)] = _discriminator_entry_point(_spec)
del _spec
