"""Sample quality of an ONNX generator measured through onnxruntime, with the project's metric.

Images are drawn by onnxruntime and scored by gan_models.quality.metrics.evaluate_samples, the
same Frechet distance and coverage `gan-models evaluate` reports for PyTorch generators.
`check_int8_quality` holds an int8 file to its float32 origin: the Frechet distance of the int8
generator must be within INT8_FD_TOLERANCE (2%) of the float32 one on the same latents.
"""
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch

from gan_models.data import to_uint8
from gan_models.export.errors import OnnxValidationError
from gan_models.export.interface import OUTPUT_NAME, feeds
from gan_models.export.onnx import read_metadata
from gan_models.export.session import make_session
from gan_models.noise import sample_noise
from gan_models.quality.metrics import DEFAULT_SAMPLES, EvaluationReport, evaluate_samples

INT8_FD_TOLERANCE = 0.02  # relative change of the Frechet distance allowed for an int8 file
BATCH = 256


class OnnxQualityError(OnnxValidationError):
    """A quantized file draws measurably worse samples than the float32 file it came from."""


@dataclass
class QualityCheck:
    """Frechet distances of a float32 and an int8 ONNX generator on the same latents."""

    dataset: str
    samples: int
    fp32_frechet_distance: float
    int8_frechet_distance: float

    @property
    def relative_change(self) -> float:
        """(int8 - fp32) / fp32: positive when int8 is worse."""
        return (self.int8_frechet_distance - self.fp32_frechet_distance) / self.fp32_frechet_distance

    def __str__(self) -> str:
        return (f"Frechet distance on {self.dataset} ({self.samples} samples, through onnxruntime): float32 "
                f"{self.fp32_frechet_distance:.3f}, int8 {self.int8_frechet_distance:.3f} "
                f"({self.relative_change:+.2%}; allowed +-{INT8_FD_TOLERANCE:.0%})")


def onnx_draw(path: str | os.PathLike, seed: int = 0) -> Callable[[int], torch.Tensor]:
    """draw(n): n uint8 images (n, C, H, W) from the ONNX generator at `path`, run by onnxruntime.

    Latents come from the file's noise kind seeded with `seed` (labels uniform over the classes
    for a conditional file), so two files of one generator draw from the same inputs.
    """
    meta = read_metadata(path)
    num_classes = int(meta["num_classes"]) if "num_classes" in meta else None

    def draw(n: int) -> torch.Tensor:
        rng = torch.Generator().manual_seed(seed)
        z = sample_noise(n, int(meta["nz"]), meta["noise"], generator=rng)
        labels = None if num_classes is None else torch.randint(num_classes, (n,), generator=rng)
        session = make_session(path)
        batches = [session.run([OUTPUT_NAME], feeds(z[i:i + BATCH], None if labels is None else labels[i:i + BATCH]))[0]
                   for i in range(0, n, BATCH)]
        return to_uint8(torch.cat([torch.from_numpy(b) for b in batches]))

    return draw


def evaluate_onnx(path: str | os.PathLike, dataset: str, data_root: str | os.PathLike | None = None, *,
                  n_samples: int = DEFAULT_SAMPLES, seed: int = 0) -> EvaluationReport:
    """evaluate_generator's report for an ONNX generator (the classifier's image shape), drawn by onnxruntime."""
    return evaluate_samples(onnx_draw(path, seed), dataset, data_root, n_samples=n_samples, seed=seed)


def check_int8_quality(fp32_file: str | os.PathLike, int8_file: str | os.PathLike, dataset: str,
                       data_root: str | os.PathLike | None = None, *, n_samples: int = DEFAULT_SAMPLES,
                       seed: int = 0) -> QualityCheck:
    """Compare the Frechet distances of a float32 file and its int8 version on `dataset`.

    Raises:
        OnnxQualityError: the int8 distance differs from the float32 one by more than INT8_FD_TOLERANCE.
        DatasetNotFoundError: the dataset is not under data_root ($GAN_MODELS_DATA by default).
    """
    fp32 = evaluate_onnx(fp32_file, dataset, data_root, n_samples=n_samples, seed=seed)
    int8 = evaluate_onnx(int8_file, dataset, data_root, n_samples=n_samples, seed=seed)
    check = QualityCheck(dataset, fp32.samples, fp32.generated.frechet_distance, int8.generated.frechet_distance)
    if abs(check.relative_change) > INT8_FD_TOLERANCE:
        raise OnnxQualityError(f"{int8_file}: {check}")
    return check
