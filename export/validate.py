"""Prove an ONNX export right: onnxruntime against PyTorch on the same inputs.

Checks, in this order, stopping at the first failure with a specific error:
1. the file is a well-formed ONNX model (onnx.checker, full check)       -> OnnxFileError
2. input and output names are "z" (and "labels" for a conditional
   generator) and "images"                                               -> OnnxNameError
3. z and images are declared float32 (labels int64) and their shapes
   agree with the generator (nz, C, H, W), then the graph runs and makes
   that output shape at every batch size on every provider               -> OnnxShapeError
4. values: max |onnx - torch| <= atol at every batch size                -> OnnxValueError
5. a conditional file: labels -1 and num_classes give all-NaN images, as
   its metadata's invalid_labels promises, and the valid label between
   them does not                                                         -> OnnxValueError

Both input layouts are validated the same way: a conditional generator gets random labels
drawn from the same seed as the latents. Files from either exporter are treated alike.

CPU always runs. CUDA runs when onnxruntime offers CUDAExecutionProvider (with TF32 off on both
sides and its own tolerance); otherwise the report says "skipped: no CUDA provider", never "passed".
Sessions are dropped as soon as a provider is done and run without the CPU memory arena, so
validating many models does not grow the process.
"""
import copy
import os
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from gan_models.errors import first_line
from gan_models.export.checks import check_declared_shapes, check_names, load_onnx, opset_of, read_onnx_precision
from gan_models.export.errors import OnnxShapeError, OnnxValueError
from gan_models.export.interface import OUTPUT_NAME, feeds, random_labels, run_torch
from gan_models.export.onnx import INVALID_LABELS, INVALID_LABELS_KEY, check_generator, export_onnx, read_metadata
from gan_models.export.report import BatchResult, ProviderReport, ValidationReport
from gan_models.export.session import CUDA, cuda_available, make_session
from gan_models.nets.base import GeneratorBase
from gan_models.noise import sample_noise

DEFAULT_BATCH_SIZES = (1, 7, 64)
# Absolute tolerances on images in [-1, 1], per (precision, device). float32 on CPU: onnxruntime and PyTorch
# sum a convolution's taps in different orders, which moved the resize-conv emoji generator (3 x 3 x 256 taps
# a pixel) by up to 1.22e-5 at batch 64 on AVX2; 5e-5 leaves 4x room and is 1/150 of one 8-bit level
# (2/255), where an export bug moves pixels by 1e-3 and more. float16 keeps ~3 decimal digits; int8 has
# its own image-space budget. All are compared with the float32 PyTorch generator they came from.
TOLERANCES = {("float32", "cpu"): 5e-5, ("float32", "cuda"): 1e-4, ("float16", "cpu"): 1e-2,
              ("float16", "cuda"): 1e-2, ("int8", "cpu"): 1.0, ("int8", "cuda"): 1.0}
# int8 also bounds the mean |diff|: single pixels may move a lot (the six shipped generators, dynamic
# int8: max 0.04 to 0.52 at batch 64) while the image as a whole stays put (mean 0.0014 to 0.009;
# static QDQ up to 0.033). A mis-scaled quantization moves every pixel and fails here.
MEAN_TOLERANCES = {"int8": 0.05}
SKIPPED_NO_CUDA = "skipped: no CUDA provider"


def validate_onnx(path: str | os.PathLike, generator: GeneratorBase, *, batch_sizes=DEFAULT_BATCH_SIZES,
                  atol: float | None = None, cuda_atol: float | None = None, seed: int = 0) -> ValidationReport:
    """Check that the ONNX file at `path` computes what `generator` computes in eval mode.

    Both run on the same inputs, drawn from `seed`: z of shape (B, nz) with the generator's noise
    kind (and, for a conditional generator, labels (B,) uniform over its classes) for each B in
    `batch_sizes` -> images (B, C, H, W) in [-1, 1]. The generator itself is not modified (a CPU
    float32 copy in eval mode is the reference).

    Args:
        path: the .onnx file.
        generator: the PyTorch generator it was exported from.
        batch_sizes: batch sizes to compare; a file exported with a fixed batch is compared at that batch.
        atol: CPU absolute tolerance; default from TOLERANCES by the file's precision (5e-5 for float32).
        cuda_atol: CUDA absolute tolerance; default from TOLERANCES (1e-4 for float32).
        seed: seed of the latents and labels.

    Returns:
        A ValidationReport with max and mean |diff| and timings per provider and batch size.

    Raises:
        TypeError: `generator` is not a gan-models generator.
        OnnxFileError, OnnxNameError, OnnxShapeError, OnnxValueError (all OnnxValidationError,
        a ValueError), in the order of the checks in the module docstring.
    """
    check_generator(generator, "validate_onnx")
    proto = load_onnx(path)
    onnx_precision = read_onnx_precision(proto, path)
    check_names(proto, path, generator)
    fixed_batch = check_declared_shapes(proto, path, generator)
    sizes = (fixed_batch,) if fixed_batch else tuple(batch_sizes)

    reference = copy.deepcopy(generator).cpu().float().eval()
    z = sample_noise(max(sizes), reference.nz, reference.noise, generator=torch.Generator().manual_seed(seed))
    labels = random_labels(reference, max(sizes), seed)
    exporter = read_metadata(proto).get("exporter", "unknown")
    report = ValidationReport(Path(path), onnx_precision, opset_of(proto), [], exporter)
    cpu_atol = TOLERANCES[(onnx_precision, "cpu")] if atol is None else atol
    mean_atol = MEAN_TOLERANCES.get(onnx_precision)
    report.providers.append(_compare(path, reference, z, labels, sizes, "cpu", cpu_atol, mean_atol))
    gpu_atol = TOLERANCES[(onnx_precision, "cuda")] if cuda_atol is None else cuda_atol
    if cuda_available():
        report.providers.append(_compare(path, reference, z, labels, sizes, "cuda", gpu_atol, mean_atol))
    else:
        report.providers.append(ProviderReport(CUDA, SKIPPED_NO_CUDA, gpu_atol))
    if reference.num_classes:
        check_invalid_labels(path, reference.num_classes, z[:3])
    return report


def check_invalid_labels(path: str | os.PathLike, num_classes: int, z: torch.Tensor) -> None:
    """Raise OnnxValueError unless the conditional file at `path` draws NaN for labels outside [0, num_classes).

    Runs each of z (3, nz) alone with labels -1, 0 and num_classes on the CPU: the first and last
    image must be all NaN, the middle one free of NaN, and the metadata must say invalid_labels
    "nan" (what export_onnx writes).
    """
    promised = read_metadata(path).get(INVALID_LABELS_KEY)
    problem = None
    if promised != INVALID_LABELS:
        problem = (f"does not say what out-of-range labels give (metadata {INVALID_LABELS_KEY} is {promised!r}, not "
                   f"{INVALID_LABELS!r}); export it again with gan-models")
    else:
        session = make_session(path, device="cpu", memory_arena=False)
        got, wanted, ok = [], {-1: 1.0, 0: 0.0, num_classes: 1.0}, True  # label -> share of NaN values wanted
        try:
            for k, (label, share) in enumerate(wanted.items()):
                try:
                    nan_share = float(np.isnan(session.run([OUTPUT_NAME], feeds(z[k:k + 1], torch.tensor([label])))[0])
                                      .mean())
                    got.append(f"label {label}: {nan_share:.1%} NaN")
                    ok = ok and nan_share == share
                except Exception as err:  # onnxruntime's own types: e.g. Gather refusing an index
                    got.append(f"label {label}: {first_line(err)}")
                    ok = False
        finally:
            del session
        if not ok:
            problem = (f"labels -1 and {num_classes} must give all-NaN images and label 0 none; got {'; '.join(got)}"
                       ": an out-of-range label would draw another class or fail")
    if problem:
        raise OnnxValueError(f"{path} {problem}", max_abs_diff=float("inf"), atol=0.0, provider="CPUExecutionProvider",
                             batch_size=1, index=(), onnx_value=float("nan"), torch_value=float("nan"))


def export_and_validate(generator: GeneratorBase, path: str | os.PathLike, *, batch_sizes=DEFAULT_BATCH_SIZES,
                        atol: float | None = None, cuda_atol: float | None = None, **export_kwargs) -> ValidationReport:
    """export_onnx then validate_onnx; a file that fails validation is deleted: `path` only ever holds a proven export.

    `export_kwargs` go to export_onnx (exporter, opset, precision, batch_dynamic, model, dataset, source_sha256).
    """
    export_onnx(generator, path, **export_kwargs)
    try:
        return validate_onnx(path, generator, batch_sizes=batch_sizes, atol=atol, cuda_atol=cuda_atol)
    except BaseException:  # a mismatch, or validation that could not finish (CUDA unusable, Ctrl-C): not proven
        Path(path).unlink(missing_ok=True)
        raise


@contextmanager
def _exact_float32():
    """Turn TF32 off in PyTorch for the comparison (onnxruntime's is off in make_session)."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _compare(path, reference: GeneratorBase, z: torch.Tensor, labels: torch.Tensor | None, sizes: tuple, device: str,
             atol: float, mean_atol: float | None) -> ProviderReport:
    """Run both runtimes at every batch size on one device, then check shapes, then values (max, and mean if given)."""
    torch_device = "cuda" if device == "cuda" and torch.cuda.is_available() else "cpu"
    model = reference.to(torch_device)
    session = make_session(path, device=device, memory_arena=False)
    runs = []
    try:
        with _exact_float32(), torch.no_grad():
            for size in sizes:
                batch_labels = None if labels is None else labels[:size]
                start = time.perf_counter()
                try:
                    got = session.run([OUTPUT_NAME], feeds(z[:size], batch_labels))[0]
                except Exception as err:  # onnxruntime's own types; e.g. a Reshape pinned to the traced batch
                    raise OnnxShapeError(
                        f"{path} does not run on {session.get_providers()[0]} at batch size {size}: {first_line(err)}",
                        expected=(size, *reference.image_shape), actual=(), batch_size=size) from None
                onnx_ms = (time.perf_counter() - start) * 1e3
                start = time.perf_counter()
                on_device = None if batch_labels is None else batch_labels.to(torch_device)
                want = run_torch(model, z[:size].to(torch_device), on_device).cpu().numpy()
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
        if mean_atol is not None and not result.mean_abs_diff <= mean_atol:
            raise OnnxValueError(
                f"{path} on {provider}: mean |onnx - torch| = {result.mean_abs_diff:.3g} > {mean_atol:g} at batch size "
                f"{size}: the images as a whole differ", max_abs_diff=result.max_abs_diff, atol=atol, provider=provider,
                batch_size=size, index=index, onnx_value=float(got[index]), torch_value=float(want[index]))
        report.batches.append(result)
    return report
