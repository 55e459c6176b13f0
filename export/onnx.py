"""PyTorch generator -> ONNX file: inputs `z` (batch, nz) [and `labels` (batch,)], output `images`, dynamic batch.

Exporter: torch's torch.export-based exporter by default, the TorchScript one on request (see
export/exporters.py for both and the opsets each writes). The interface is the same either way
(export/interface.py), and the metadata_props record which exporter wrote the file.

For a plain generator we export `generator.generate`, not `forward`: `forward` checks z's shape in
Python, which the TorchScript tracer can only freeze into constants. The ONNX graph declares z as
(batch, nz) instead, so onnxruntime rejects a wrong nz itself. A conditional generator is exported
through its `forward(z, labels)`, the one interface it promises.
"""
import copy
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import onnx
import torch
from torch import nn

from gan_models import __version__
from gan_models.atomic import atomic_write
from gan_models.choices import DEFAULT_EXPORTER, DEFAULT_OPSET, ONNX_PRECISIONS, check_opset
from gan_models.export.exporters import to_onnx
from gan_models.export.interface import (
    INPUT_NAME,
    LABELS_NAME,
    OUTPUT_NAME,
    example_inputs,
    input_names,
)
from gan_models.nets.base import GeneratorBase

__all__ = ["INPUT_NAME", "INVALID_LABELS", "INVALID_LABELS_KEY", "LABELS_NAME", "OUTPUT_NAME", "check_generator",
           "export_onnx", "model_metadata", "read_metadata"]

VALUE_RANGE = "[-1, 1]"
PRECISION_KEY = "precision"  # the metadata_props key holding one of choices.ONNX_PRECISIONS
NUM_CLASSES_KEY = "num_classes"  # the metadata_props key saying whether the file takes labels: "0" when it does not
INVALID_LABELS_KEY = "invalid_labels"  # conditional files only: what a label outside [0, num_classes) gives
INVALID_LABELS = "nan"  # ...an image whose every value is NaN (the other images of the batch are unaffected)
QUANTIZED = "int8"  # the one precision export_onnx does not write: export/int8.py quantizes a float32 file to it


class _Generate(nn.Module):
    """Wraps a plain generator so the exported graph is `generate(z)`, optionally computed in float16.

    In float16 the interface stays float32: z is cast to half on entry and the images back to
    float on exit, so callers never handle half tensors and onnxruntime's CPU provider can run it.
    """

    def __init__(self, generator: GeneratorBase, half: bool) -> None:
        super().__init__()
        self.generator, self.half = generator, half

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.half:
            return self.generator.generate(z.half()).float()
        return self.generator.generate(z)


class _GenerateConditional(_Generate):
    """The same for a conditional generator: `G(z, labels)`, labels int64 class indices in every mode.

    A label outside [0, num_classes) gives an image of NaN (INVALID_LABELS): the graph clamps the
    index it looks up, so the embedding's Gather never wraps a negative label round to another
    class, and replaces that image with NaN through a validity mask. PyTorch refuses such labels
    in Python (check_labels), which an exported graph cannot do.
    """

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        last = self.generator.num_classes - 1
        # Compared as float32 (exact for every class index), so that the graph's only use of the labels' own
        # type is a Cast: a file declaring them int32 stays well-typed and check_declared_shapes names the fault.
        as_float = labels.float()
        valid = (as_float >= 0) & (as_float <= last)  # (N,)
        clamped = as_float.clamp(0, last).long()
        images = self.generator(z.half(), clamped).float() if self.half else self.generator(z, clamped)
        return torch.where(valid.view(-1, 1, 1, 1), images, float("nan"))


def model_metadata(generator: GeneratorBase, *, model: str | None, dataset: str | None, source_sha256: str | None,
                   precision: str = "float32", exporter: str = DEFAULT_EXPORTER) -> dict[str, str]:
    """The metadata_props written into the ONNX file: what a consumer needs to feed and read it, and its provenance.

    `num_classes` is always there ("0" for a generator of z alone); `classes`, a JSON list of names, and
    `invalid_labels` ("nan": a label outside [0, num_classes) draws an all-NaN image), only when it is not 0.
    """
    meta = {
        "model": model or f"{type(generator).__module__}.{type(generator).__qualname__}",
        "nz": str(generator.nz),
        "image_shape": ",".join(str(d) for d in generator.image_shape),  # C,H,W
        "value_range": VALUE_RANGE,
        "noise": generator.noise,
        "dataset": dataset or "unknown",
        PRECISION_KEY: precision,
        "exporter": exporter,
        "torch_version": torch.__version__,
        "gan_models_version": __version__,
        NUM_CLASSES_KEY: str(generator.num_classes),
    }
    if generator.num_classes:
        meta["classes"] = json.dumps(list(generator.classes))  # a JSON list: names may hold commas
        meta[INVALID_LABELS_KEY] = INVALID_LABELS
    if source_sha256:
        meta["source_sha256"] = source_sha256
    return meta


def read_metadata(model_or_path: onnx.ModelProto | str | os.PathLike) -> dict[str, str]:
    """The metadata_props of an ONNX model (or file) as a dict."""
    proto = model_or_path if isinstance(model_or_path, onnx.ModelProto) else onnx.load(os.fspath(model_or_path))
    return {prop.key: prop.value for prop in proto.metadata_props}


def _declare_image_shape(proto: onnx.ModelProto, image_shape: tuple[int, int, int]) -> None:
    """Write (C, H, W) into the output's declared shape.

    The TorchScript tracer leaves them symbolic after a reshape (the FC generator's view), which
    would hide the image size from consumers; the batch axis keeps its name or fixed size.
    """
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    for dim, size in zip(dims[1:], image_shape, strict=True):
        dim.Clear()
        dim.dim_value = size


@contextmanager
def _naming_write_errors(path: Path) -> Iterator[None]:
    """Re-raise an OSError that names no file (a write on a full disk: ENOSPC) as one naming `path`."""
    try:
        yield
    except OSError as err:
        if err.filename is not None:
            raise
        raise OSError(err.errno, f"cannot write {path}: {err.strerror or err}") from None


def check_export_precision(precision: str) -> str:
    """`precision` if export_onnx writes it (ONNX_PRECISIONS but int8), else ValueError saying where int8 comes from."""
    if precision == QUANTIZED:
        raise ValueError("int8 files are quantized from the float32 export: use "
                         "gan_models.export.int8.export_int8_and_validate (gan-models export --precision int8)")
    if precision not in ONNX_PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {list(ONNX_PRECISIONS)}")
    return precision


def check_generator(generator, caller: str) -> None:
    """Raise TypeError unless `generator` is a gan-models generator (`caller` names the function in the message)."""
    if not isinstance(generator, GeneratorBase):
        raise TypeError(f"{caller} needs a gan-models generator, got {type(generator).__name__}; "
                        "discriminators are not exported")


def export_onnx(generator: GeneratorBase, path: str | os.PathLike, *, exporter: str = DEFAULT_EXPORTER,
                opset: int = DEFAULT_OPSET, batch_dynamic: bool = True, batch_size: int = 2, precision: str = "float32",
                model: str | None = None, dataset: str | None = None, source_sha256: str | None = None) -> Path:
    """Write `generator` in eval mode to an ONNX file and check it with onnx.checker (full_check).

    The graph maps input "z" (batch, nz) float32 (and "labels" (batch,) int64 for a conditional
    generator; an image whose label lies outside [0, num_classes) is all NaN, as the metadata's
    invalid_labels says) to output "images" (batch, C, H, W) float32 in [-1, 1]. BatchNorm uses its running
    statistics (eval mode); constants are folded. The caller's module is not modified: a CPU
    float32 copy is exported (half precision for "float16"). The file is written atomically: a
    failed export or check leaves no file at `path`.

    Args:
        generator: a gan-models generator (pass the EMA generator when you have one; the
            checkpoint and hub loaders in `gan_models.sources` already do).
        path: where to write the .onnx file; its folder is created.
        exporter: "dynamo" (torch.export-based, default) or "torchscript" (deprecated by torch).
        opset: ONNX opset, one of gan_models.choices.SUPPORTED_OPSETS[exporter].
        batch_dynamic: declare the batch axis dynamic; otherwise it is fixed at `batch_size`.
        batch_size: batch of the example inputs used for export (and the fixed batch, if not dynamic).
        precision: "float32", or "float16" to store weights and compute in float16 (z and images stay
            float32). int8 files are quantized from a float32 one: gan_models.export.int8.
        model: registry name for the metadata ("fcgan", ...); defaults to the class path.
        dataset: dataset the weights were trained on, for the metadata ("unknown" if None).
        source_sha256: SHA-256 of the weights' source file, for the metadata (omitted if None).

    Returns:
        The path written.

    Raises:
        TypeError: `generator` is not a gan-models generator.
        ValueError: unknown exporter or precision, unsupported opset or batch_size < 1.
    """
    check_generator(generator, "export_onnx")
    check_opset(opset, exporter)
    check_export_precision(precision)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    half = precision == "float16"
    frozen = copy.deepcopy(generator).cpu().float().eval()
    if half:
        frozen = frozen.half()
    module = (_GenerateConditional if generator.num_classes else _Generate)(frozen, half).eval()
    # Exporting with batch >= 2 keeps the exporter from specialising anything on a batch of one.
    inputs = example_inputs(generator, batch_size)

    with atomic_write(path) as tmp, _naming_write_errors(path):
        proto = to_onnx(module, inputs, input_names(generator), exporter=exporter, opset=opset,
                        batch_dynamic=batch_dynamic, scratch=tmp)
        _declare_image_shape(proto, generator.image_shape)
        meta = model_metadata(generator, model=model, dataset=dataset, source_sha256=source_sha256,
                              precision=precision, exporter=exporter)
        onnx.helper.set_model_props(proto, meta)
        labels = ", labels (batch,)" if generator.num_classes else ""
        proto.doc_string = f"gan-models {meta['model']} generator: z (batch, {generator.nz}){labels} -> images " \
                           f"(batch, {', '.join(meta['image_shape'].split(','))}) in {VALUE_RANGE}"
        onnx.checker.check_model(proto, full_check=True)
        onnx.save(proto, os.fspath(tmp))
    return path
