"""PyTorch generator -> ONNX file: named input `z` (batch, nz), named output `images`, dynamic batch.

Exporter: the TorchScript exporter (`torch.onnx.export(..., dynamo=False)`). Our generators are
straight-line graphs (Linear, ConvTranspose2d, BatchNorm, ReLU, Tanh) that it traces exactly, it
handles `dynamic_axes` directly and it needs no extra dependency; torch 2.14's default dynamo
exporter would add onnxscript to the install for no gain here. torch marks the TorchScript
exporter deprecated: when it is removed, switch `_trace_to_onnx` to `dynamo=True` with
`dynamic_shapes` and add onnxscript to the `export` extra; the validation stays as it is.
It writes opsets 17 to 20 natively, hence SUPPORTED_OPSETS.

We trace `generator.generate`, not `forward`: `forward` checks z's shape in Python, which a tracer
can only freeze into constants. The ONNX graph declares z as (batch, nz) instead, so onnxruntime
rejects a wrong nz itself.
"""
import copy
import os
import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from gan_models import __version__
from gan_models.atomic import atomic_write
from gan_models.nets.base import GeneratorBase

INPUT_NAME = "z"  # (batch, nz) float32 latents
OUTPUT_NAME = "images"  # (batch, C, H, W) float32 in [-1, 1]
BATCH_AXIS = "batch"
DEFAULT_OPSET = 17
SUPPORTED_OPSETS = range(17, 21)  # what the TorchScript exporter writes natively
VALUE_RANGE = "[-1, 1]"


class _Generate(nn.Module):
    """Wraps a generator so the traced graph is `generate(z)`, optionally computed in float16.

    In fp16 mode the interface stays float32: z is cast to half on entry and the images back to
    float on exit, so callers never handle half tensors and onnxruntime's CPU provider can run it.
    """

    def __init__(self, generator: GeneratorBase, fp16: bool) -> None:
        super().__init__()
        self.generator, self.fp16 = generator, fp16

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.fp16:
            return self.generator.generate(z.half()).float()
        return self.generator.generate(z)


def check_opset(opset: int) -> int:
    """Return `opset` if the exporter writes it, else raise ValueError naming the range."""
    if not isinstance(opset, int) or opset not in SUPPORTED_OPSETS:
        raise ValueError(f"opset {opset!r} is not supported; choose {SUPPORTED_OPSETS.start} to "
                         f"{SUPPORTED_OPSETS.stop - 1} (default {DEFAULT_OPSET})")
    return opset


def model_metadata(generator: GeneratorBase, *, model: str | None, dataset: str | None,
                   source_sha256: str | None, fp16: bool) -> dict[str, str]:
    """The metadata_props written into the ONNX file: what a consumer needs to feed and read it."""
    meta = {
        "model": model or f"{type(generator).__module__}.{type(generator).__qualname__}",
        "nz": str(generator.nz),
        "image_shape": ",".join(str(d) for d in generator.image_shape),  # C,H,W
        "value_range": VALUE_RANGE,
        "noise": generator.noise,
        "dataset": dataset or "unknown",
        "precision": "fp16" if fp16 else "fp32",
        "gan_models_version": __version__,
    }
    if source_sha256:
        meta["source_sha256"] = source_sha256
    return meta


def read_metadata(model_or_path: onnx.ModelProto | str | os.PathLike) -> dict[str, str]:
    """The metadata_props of an ONNX model (or file) as a dict."""
    proto = model_or_path if isinstance(model_or_path, onnx.ModelProto) else onnx.load(os.fspath(model_or_path))
    return {prop.key: prop.value for prop in proto.metadata_props}


def _trace_to_onnx(module: nn.Module, example: torch.Tensor, path: Path, opset: int, batch_dynamic: bool) -> None:
    axes = {INPUT_NAME: {0: BATCH_AXIS}, OUTPUT_NAME: {0: BATCH_AXIS}} if batch_dynamic else None
    with warnings.catch_warnings():
        # The exporter's deprecation notice is about the choice documented above, not news to the user.
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="The feature will be removed", category=DeprecationWarning)
        torch.onnx.export(module, (example,), os.fspath(path), dynamo=False, export_params=True,
                          opset_version=opset, do_constant_folding=True, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME], dynamic_axes=axes)


def _declare_image_shape(proto: onnx.ModelProto, image_shape: tuple[int, int, int]) -> None:
    """Write (C, H, W) into the output's declared shape.

    The tracer leaves them symbolic after a reshape (the FC generator's view), which would hide
    the image size from consumers; the batch axis keeps its name or fixed size.
    """
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    for dim, size in zip(dims[1:], image_shape, strict=True):
        dim.Clear()
        dim.dim_value = size


def check_generator(generator, caller: str) -> None:
    """Raise TypeError unless `generator` is a gan-models generator (`caller` names the function in the message)."""
    if not isinstance(generator, GeneratorBase):
        raise TypeError(f"{caller} needs a gan-models generator, got {type(generator).__name__}; "
                        "discriminators are not exported")


def export_onnx(generator: GeneratorBase, path: str | os.PathLike, *, opset: int = DEFAULT_OPSET,
                batch_dynamic: bool = True, batch_size: int = 2, fp16: bool = False, model: str | None = None,
                dataset: str | None = None, source_sha256: str | None = None) -> Path:
    """Write `generator` in eval mode to an ONNX file and check it with onnx.checker (full_check).

    The graph maps input "z" (batch, nz) float32 to output "images" (batch, C, H, W) float32 in
    [-1, 1]. BatchNorm uses its running statistics (eval mode); constants are folded. The caller's
    module is not modified: a CPU float32 copy is exported (half precision when `fp16`).
    The file is written atomically: a failed export or check leaves no file at `path`.

    Args:
        generator: a gan-models generator (pass the EMA generator when you have one; the
            checkpoint and hub loaders in `gan_models.sources` already do).
        path: where to write the .onnx file; its folder is created.
        opset: ONNX opset, one of SUPPORTED_OPSETS (17 to 20).
        batch_dynamic: declare the batch axis dynamic; otherwise it is fixed at `batch_size`.
        batch_size: batch of the example latents used for tracing (and the fixed batch, if not dynamic).
        fp16: store weights and compute in float16; inputs and outputs stay float32.
        model: registry name for the metadata ("fcgan", ...); defaults to the class path.
        dataset: dataset the weights were trained on, for the metadata ("unknown" if None).
        source_sha256: SHA-256 of the weights' source file, for the metadata (omitted if None).

    Returns:
        The path written.

    Raises:
        TypeError: `generator` is not a gan-models generator.
        ValueError: unsupported opset or batch_size < 1.
    """
    check_generator(generator, "export_onnx")
    check_opset(opset)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    frozen = copy.deepcopy(generator).cpu().float().eval()
    if fp16:
        frozen = frozen.half()
    module = _Generate(frozen, fp16).eval()
    # Tracing with batch >= 2 keeps the exporter from specialising anything on a batch of one.
    example = torch.zeros(batch_size, generator.nz)

    with atomic_write(path) as tmp:
        with torch.no_grad():
            _trace_to_onnx(module, example, tmp, opset, batch_dynamic)
        proto = onnx.load(os.fspath(tmp))
        _declare_image_shape(proto, generator.image_shape)
        meta = model_metadata(generator, model=model, dataset=dataset, source_sha256=source_sha256, fp16=fp16)
        onnx.helper.set_model_props(proto, meta)
        proto.doc_string = f"gan-models {meta['model']} generator: z (batch, {generator.nz}) -> images " \
                           f"(batch, {', '.join(meta['image_shape'].split(','))}) in {VALUE_RANGE}"
        onnx.checker.check_model(proto, full_check=True)
        onnx.save(proto, os.fspath(tmp))
    return path
