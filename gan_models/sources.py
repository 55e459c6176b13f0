"""Where a generator comes from for sampling, export and evaluation: a checkpoint or a hub entry point.

Each loader returns the generator in eval mode plus what the ONNX metadata records about it
(model name, dataset, SHA-256 of the weights' file), so export and validate load identically.
"""
import os
from dataclasses import dataclass

import torch

from gan_models import hub
from gan_models.nets.base import GeneratorBase
from gan_models.registry import MODELS, find_weights
from gan_models.training.checkpoint import CheckpointError, generator_from_state, load_checkpoint_and_sha256

UNTRAINED_SEED = 0  # fresh hub generators are initialised from this seed, so a later `validate` rebuilds them


@dataclass
class GeneratorSource:
    """A generator ready to export, and the facts about it that go into the ONNX metadata."""

    generator: GeneratorBase  # eval mode, CPU
    model: str  # registry name, e.g. "dcgan"
    dataset: str | None  # what the weights were trained on; None when unknown or untrained
    sha256: str | None  # SHA-256 of the file the weights came from; None for fresh weights

    def export_kwargs(self) -> dict:
        """Keywords for `export_onnx` that carry this source's metadata."""
        return {"model": self.model, "dataset": self.dataset, "source_sha256": self.sha256}


def from_checkpoint(path: str | os.PathLike, use_ema: bool = True) -> GeneratorSource:
    """The generator of a training checkpoint: the EMA generator when it has one and `use_ema`.

    The file is read once, so the recorded SHA-256 is that of the weights loaded. Raises
    CheckpointError (a ValueError) naming the file for a missing, corrupt, foreign or incomplete file, or
    one whose weights do not fit the generator its keywords describe.
    """
    state, sha256 = load_checkpoint_and_sha256(path)
    try:
        generator = generator_from_state(state, use_ema=use_ema)
    except (RuntimeError, TypeError, ValueError) as err:  # torch's load_state_dict and the builders raise these
        raise CheckpointError(f"cannot load the generator of {path}: {' '.join(str(err).split())}") from None
    return GeneratorSource(generator=generator, model=state["model"], dataset=state.get("dataset"), sha256=sha256)


def from_hub(name: str, *, pretrained: bool = False, dataset: str | None = None, conditional: bool = False,
             **kwargs) -> GeneratorSource:
    """The generator of hub entry point `name` ("fcgan", "lsgan", "dcgan", "dcgan64"), class-conditional with
    `conditional`.

    With `pretrained`, the shipped weights for `dataset` (the spec's, `ModelSpec.dataset`, if None);
    raises NoPretrainedWeightsError (a ValueError) when none ship. Without it, a fresh generator
    initialised from UNTRAINED_SEED (the global RNG is left untouched), useful for testing a pipeline;
    `dataset` then must be None, since untrained weights were trained on nothing.
    """
    if name not in MODELS:
        raise ValueError(f"unknown generator {name!r}; choose one of {sorted(MODELS)} "
                         "(only generators are exported)")
    entry_point = getattr(hub, name)
    if pretrained:
        dataset = dataset or MODELS[name].dataset
        generator = entry_point(pretrained=True, dataset=dataset, conditional=conditional, **kwargs)
        record = find_weights(name, dataset, conditional)
        return GeneratorSource(generator.eval(), name, record.dataset, record.sha256)
    if dataset is not None:
        raise ValueError(f"dataset {dataset!r} applies only to pretrained weights; add pretrained=True (--pretrained)")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(UNTRAINED_SEED)
        generator = entry_point(pretrained=False, conditional=conditional, **kwargs)
    return GeneratorSource(generator.eval(), name, None, None)
