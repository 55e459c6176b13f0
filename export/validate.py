"""Prove an ONNX export right: onnxruntime against PyTorch on the same latents.

Checks, in this order, stopping at the first failure with a specific error:
1. the file is a well-formed ONNX model (onnx.checker, full check)       -> OnnxFileError
2. input and output names are "z" and "images"                           -> OnnxNameError
3. z and images are declared float32 and their shapes agree with the
   generator (nz, C, H, W), then the graph runs and makes that output
   shape at every batch size on every provider                           -> OnnxShapeError
4. values: max |onnx - torch| <= atol at every batch size                -> OnnxValueError

CPU always runs. CUDA runs when onnxruntime offers CUDAExecutionProvider (with TF32 off on both
sides and its own tolerance); otherwise the report says "skipped: no CUDA provider", never "passed".
Sessions are dropped as soon as a provider is done and run without the CPU memory arena, so
validating many models does not grow the process.
"""
import copy
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import torch

from export.onnx import INPUT_NAME, OUTPUT_NAME, check_generator, export_onnx, read_metadata
from export.session import CPU, CUDA, cuda_available, make_session
from gan_models.errors import first_line
from gan_models.nets.base import GeneratorBase
from gan_models.noise import sample_noise

DEFAULT_BATCH_SIZES = (1, 7, 64)
# Absolute tolerances on images in [-1, 1], per (precision, device). fp16 keeps ~3 decimal digits,
# and is compared with the float32 PyTorch generator it came from.
TOLERANCES = {("fp32", "cpu"): 1e-5, ("fp32", "cuda"): 1e-4, ("fp16", "cpu"): 1e-2, ("fp16", "cuda"): 1e-2}
SKIPPED_NO_CUDA = "skipped: no CUDA provider"


class OnnxValidationError(ValueError):
    """An ONNX file does not faithfully reproduce its PyTorch generator."""


class OnnxFileError(OnnxValidationError):
    """The file is missing, unreadable, or not a well-formed ONNX model."""


class OnnxNameError(OnnxValidationError):
    """The model's input or output names are not the ones consumers rely on."""


class OnnxShapeError(OnnxValidationError):
    """A declared or produced shape differs from the generator's, or the graph does not run at a batch size.

    Attributes: expected and actual shapes (actual is () when it did not run); batch_size (None for a
    declared-shape mismatch).
    """

    def __init__(self, message: str, expected: tuple, actual: tuple, batch_size: int | None = None) -> None:
        super().__init__(message)
        self.expected, self.actual, self.batch_size = expected, actual, batch_size


class OnnxValueError(OnnxValidationError):
    """onnxruntime's images differ from PyTorch's by more than the tolerance.

    Attributes: max_abs_diff, atol, provider, batch_size and index (the (n, c, h, w) element of
    the largest difference), onnx_value and torch_value there.
    """

    def __init__(self, message: str, *, max_abs_diff: float, atol: float, provider: str, batch_size: int,
                 index: tuple[int, ...], onnx_value: float, torch_value: float) -> None:
        super().__init__(message)
        self.max_abs_diff, self.atol, self.provider = max_abs_diff, atol, provider
        self.batch_size, self.index, self.onnx_value, self.torch_value = batch_size, index, onnx_value, torch_value


@dataclass
class BatchResult:
    """One batch size on one provider."""

    batch_size: int
    max_abs_diff: float
    mean_abs_diff: float
    index: tuple[int, ...]  # (n, c, h, w) of the largest difference
    onnx_ms: float  # one cold onnxruntime run, wall clock (benchmarks/inference.py measures speed)
    torch_ms: float  # one cold PyTorch eager run, wall clock


@dataclass
class ProviderReport:
    """The outcome on one execution provider: "passed", or "skipped: <why>"."""

    provider: str
    status: str
    atol: float
    batches: list[BatchResult] = field(default_factory=list)


@dataclass
class ValidationReport:
    """What validate_onnx compared and found; str() gives a table."""

    path: Path
    precision: str  # "fp32" or "fp16", from the file's metadata
    opset: int
    providers: list[ProviderReport]

    def provider(self, name: str) -> ProviderReport:
        """The entry for "cpu"/"cuda" or a full provider name."""
        full = {"cpu": CPU, "cuda": CUDA}.get(name, name)
        return next(p for p in self.providers if p.provider == full)

    @property
    def max_abs_diff(self) -> float:
        """The largest difference over every provider and batch size that ran."""
        return max(b.max_abs_diff for p in self.providers for b in p.batches)

    def __str__(self) -> str:
        lines = [f"validated {self.path} ({self.precision}, opset {self.opset}): onnxruntime vs PyTorch",
                 f"{'provider':<22} {'batch':>5} {'max|diff|':>10} {'mean|diff|':>10} {'atol':>7} "
                 f"{'onnx ms':>8} {'torch ms':>8}  result"]
        for p in self.providers:
            if not p.batches:
                lines.append(f"{p.provider:<22} {'-':>5} {'-':>10} {'-':>10} {p.atol:>7.0e} {'-':>8} {'-':>8}  "
                             f"{p.status}")
            for b in p.batches:
                lines.append(f"{p.provider:<22} {b.batch_size:>5} {b.max_abs_diff:>10.2e} {b.mean_abs_diff:>10.2e} "
                             f"{p.atol:>7.0e} {b.onnx_ms:>8.2f} {b.torch_ms:>8.2f}  {p.status}")
        return "\n".join(lines)


def load_onnx(path: str | os.PathLike) -> onnx.ModelProto:
    """Read and fully check an ONNX file; raises OnnxFileError with one clear line otherwise."""
    path = Path(path)
    if not path.is_file():
        raise OnnxFileError(f"ONNX file not found: {path}")
    try:
        proto = onnx.load(os.fspath(path))
        onnx.checker.check_model(proto, full_check=True)
    except Exception as err:  # protobuf DecodeError, onnx ValidationError, shape inference errors
        raise OnnxFileError(f"{path} is not a valid ONNX model ({first_line(err)})") from None
    return proto


def validate_onnx(path: str | os.PathLike, generator: GeneratorBase, *, batch_sizes=DEFAULT_BATCH_SIZES,
                  atol: float | None = None, cuda_atol: float | None = None, seed: int = 0) -> ValidationReport:
    """Check that the ONNX file at `path` computes what `generator` computes in eval mode.

    Both run on the same latents, drawn with the generator's noise kind from `seed`: z of shape
    (B, nz) for each B in `batch_sizes` -> images (B, C, H, W) in [-1, 1]. The generator itself is
    not modified (a CPU float32 copy in eval mode is the reference).

    Args:
        path: the .onnx file.
        generator: the PyTorch generator it was exported from.
        batch_sizes: batch sizes to compare; a file exported with a fixed batch is compared at that batch.
        atol: CPU absolute tolerance; default from TOLERANCES by the file's precision (1e-5 for fp32).
        cuda_atol: CUDA absolute tolerance; default from TOLERANCES (1e-4 for fp32).
        seed: seed of the latents.

    Returns:
        A ValidationReport with max and mean |diff| and timings per provider and batch size.

    Raises:
        TypeError: `generator` is not a gan-models generator.
        OnnxFileError, OnnxNameError, OnnxShapeError, OnnxValueError (all OnnxValidationError,
        a ValueError), in the order of the checks in the module docstring.
    """
    check_generator(generator, "validate_onnx")
    proto = load_onnx(path)
    precision = read_metadata(proto).get("precision", "fp32")
    if precision not in ("fp32", "fp16"):  # it picks the tolerance: an unknown value must not fall through
        raise OnnxFileError(f"{path} declares precision {precision!r}; expected 'fp32' or 'fp16' (metadata_props)")
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    _check_names(proto, path)
    fixed_batch = _check_declared_shapes(proto, path, generator)
    sizes = (fixed_batch,) if fixed_batch else tuple(batch_sizes)

    reference = copy.deepcopy(generator).cpu().float().eval()
    z = sample_noise(max(sizes), reference.nz, reference.noise, generator=torch.Generator().manual_seed(seed))
    report = ValidationReport(Path(path), precision, opset, [])
    cpu_atol = TOLERANCES[(precision, "cpu")] if atol is None else atol
    report.providers.append(_compare(path, reference, z, sizes, "cpu", cpu_atol))
    gpu_atol = TOLERANCES[(precision, "cuda")] if cuda_atol is None else cuda_atol
    if cuda_available():
        report.providers.append(_compare(path, reference, z, sizes, "cuda", gpu_atol))
    else:
        report.providers.append(ProviderReport(CUDA, SKIPPED_NO_CUDA, gpu_atol))
    return report


def export_and_validate(generator: GeneratorBase, path: str | os.PathLike, *, batch_sizes=DEFAULT_BATCH_SIZES,
                        atol: float | None = None, cuda_atol: float | None = None, **export_kwargs) -> ValidationReport:
    """export_onnx then validate_onnx; a file that fails validation is deleted: `path` only ever holds a proven export.

    `export_kwargs` go to export_onnx (opset, fp16, batch_dynamic, model, dataset, source_sha256).
    """
    export_onnx(generator, path, **export_kwargs)
    try:
        return validate_onnx(path, generator, batch_sizes=batch_sizes, atol=atol, cuda_atol=cuda_atol)
    except BaseException:  # a mismatch, or validation that could not finish (CUDA unusable, Ctrl-C): not proven
        Path(path).unlink(missing_ok=True)
        raise


def _check_names(proto: onnx.ModelProto, path) -> None:
    initializers = {init.name for init in proto.graph.initializer}
    inputs = [i.name for i in proto.graph.input if i.name not in initializers]
    outputs = [o.name for o in proto.graph.output]
    if inputs != [INPUT_NAME] or outputs != [OUTPUT_NAME]:
        raise OnnxNameError(f"{path} has inputs {inputs} and outputs {outputs}; expected [{INPUT_NAME!r}] "
                            f"and [{OUTPUT_NAME!r}]")


def _dims(value_info) -> tuple:
    """Declared dims: ints for fixed axes, names (e.g. "batch") for dynamic ones."""
    return tuple(d.dim_value if d.HasField("dim_value") else d.dim_param for d in value_info.type.tensor_type.shape.dim)


def _check_declared_shapes(proto: onnx.ModelProto, path, generator: GeneratorBase) -> int | None:
    """Compare the declared z and image shapes (and float32 types) with the generator; return the batch if fixed."""
    for value_info in (proto.graph.input[0], proto.graph.output[0]):
        elem_type = value_info.type.tensor_type.elem_type
        if elem_type != onnx.TensorProto.FLOAT:  # fp16 files too: only their weights and compute are half
            dims = _dims(value_info)
            raise OnnxShapeError(f"{path} declares {value_info.name} as "
                                 f"{onnx.helper.tensor_dtype_to_np_dtype(elem_type) if elem_type else 'untyped'}; "
                                 "gan-models files use float32", expected=dims, actual=dims)
    z_dims, image_dims = _dims(proto.graph.input[0]), _dims(proto.graph.output[0])
    if len(z_dims) != 2 or z_dims[1] != generator.nz:
        raise OnnxShapeError(f"{path} takes z of shape {z_dims} but the generator takes (batch, {generator.nz}): "
                             "latent size nz differs; is this the right model?",
                             expected=("batch", generator.nz), actual=z_dims)
    if tuple(image_dims[1:]) != generator.image_shape:
        raise OnnxShapeError(f"{path} declares images of shape {image_dims} but the generator makes "
                             f"(batch, {', '.join(map(str, generator.image_shape))})",
                             expected=("batch", *generator.image_shape), actual=image_dims)
    return z_dims[0] if isinstance(z_dims[0], int) and z_dims[0] > 0 else None


@contextmanager
def _exact_float32():
    """Turn TF32 off in PyTorch for the comparison (onnxruntime's is off in make_session)."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _compare(path, reference: GeneratorBase, z: torch.Tensor, sizes: tuple, device: str, atol: float) -> ProviderReport:
    """Run both runtimes at every batch size on one device, then check shapes, then values."""
    torch_device = "cuda" if device == "cuda" and torch.cuda.is_available() else "cpu"
    model = reference.to(torch_device)
    session = make_session(path, device=device, memory_arena=False)
    runs = []
    try:
        with _exact_float32(), torch.no_grad():
            for size in sizes:
                batch = z[:size]
                start = time.perf_counter()
                try:
                    got = session.run([OUTPUT_NAME], {INPUT_NAME: batch.numpy()})[0]
                except Exception as err:  # onnxruntime's own types; e.g. a Reshape pinned to the traced batch
                    raise OnnxShapeError(
                        f"{path} does not run on {session.get_providers()[0]} at batch size {size}: {first_line(err)}",
                        expected=(size, *reference.image_shape), actual=(), batch_size=size) from None
                onnx_ms = (time.perf_counter() - start) * 1e3
                start = time.perf_counter()
                want = model(batch.to(torch_device)).cpu().numpy()
                torch_ms = (time.perf_counter() - start) * 1e3
                runs.append((size, got, want, onnx_ms, torch_ms))
        provider = session.get_providers()[0]
    finally:
        del session  # frees onnxruntime's native memory now, not at some later garbage collection
        reference.cpu()
    for size, got, want, _, _ in runs:
        if got.shape != want.shape:
            raise OnnxShapeError(f"{path} on {provider} made images of shape {got.shape} for batch size {size}; "
                                 f"PyTorch made {want.shape}", expected=want.shape, actual=got.shape, batch_size=size)
    report = ProviderReport(provider, "passed", atol)
    for size, got, want, onnx_ms, torch_ms in runs:
        diff = np.nan_to_num(np.abs(got.astype(np.float64) - want), nan=np.inf)  # a NaN must fail, not compare False
        index = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))
        result = BatchResult(size, float(diff[index]), float(diff.mean()), index, onnx_ms, torch_ms)
        if not result.max_abs_diff <= atol:
            raise OnnxValueError(
                f"{path} on {provider}: max |onnx - torch| = {result.max_abs_diff:.3g} > atol {atol:g} at batch size "
                f"{size}, element {index} (onnx {got[index]:.6g}, torch {want[index]:.6g})",
                max_abs_diff=result.max_abs_diff, atol=atol, provider=provider, batch_size=size, index=index,
                onnx_value=float(got[index]), torch_value=float(want[index]))
        report.batches.append(result)
    return report
