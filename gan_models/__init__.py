"""gan-models: trainable and pretrained GANs (FC-GAN, LSGAN, DCGAN) for torch.hub, exported to ONNX.

The public names below are loaded on first use (PEP 562), so `import gan_models` (and the command
line's --help) does not import torch; `from gan_models import dcgan` works as usual.
"""
import importlib

from gan_models.specs import ENTRY_POINTS  # torch-free

__version__ = "0.1.0"

# public name -> the module that defines it
_PUBLIC = {
    "MODELS": "gan_models.specs",
    "build_discriminator": "gan_models.registry",
    "build_generator": "gan_models.registry",
    "project": "gan_models.projection",
    "save_gif": "gan_models.images",
    "save_grid": "gan_models.images",
    "save_images": "gan_models.images",
    **{name: "gan_models.hub" for name in ENTRY_POINTS},
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'gan_models' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
