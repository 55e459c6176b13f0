"""Sample quality of an ONNX generator measured through onnxruntime, with the project's metric.

`OnnxGenerator` wraps a file as a gan_models generator, so `gan_models.sampling.generate` and
`evaluate_generator` draw and score its images exactly as they do the PyTorch generator's: the same
latents from the same seed, image i of class i % K for a conditional file, and the same report
(Frechet distance, coverage, and for a conditional file class accuracy and intra-class distance).

`check_int8_quality` holds an int8 file to the float32 file it came from, with one of two gates:
- "data", when the dataset is installed: the Frechet distance of the int8 samples to the test split
  must be within INT8_FD_TOLERANCE (2%) of the float32 samples' distance, on the same latents.
- "self", when it is not: the shipped classifier alone (no dataset) maps float32 and int8 samples
  of the same latents to its features, and the Frechet distance between the two sets must be at most
  SELF_GATE_FRACTION of the distance between two float32 draws of different latents (the FD that
  sampling noise alone makes at this sample count). So int8 must move the sample distribution less
  than a fresh draw of latents does. Measured at 2,000 samples on the shipped generators (dynamic
  int8, AMD EPYC AVX2): ratios 0.001 to 0.009 (0.023 with the saturating U8S8 weights), against
  1.45 for the LSGAN's file posing as the FC-GAN's int8; 0.05 leaves twice the worst good ratio.
"""
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gan_models.data import DatasetNotFoundError, to_unit_range
from gan_models.export.errors import OnnxValidationError
from gan_models.export.interface import OUTPUT_NAME, feeds
from gan_models.export.onnx import read_metadata
from gan_models.export.session import make_session
from gan_models.nets.base import GeneratorBase
from gan_models.nets.labels import check_labels
from gan_models.quality.classifier import load_classifier
from gan_models.quality.frechet import feature_statistics, frechet_distance
from gan_models.quality.metrics import DEFAULT_SAMPLES, EvaluationReport, classify, evaluate_generator
from gan_models.sampling import generate

INT8_FD_TOLERANCE = 0.02  # data gate: relative change of the Frechet distance to the test split allowed for int8
SELF_GATE_FRACTION = 0.05  # self gate: FD(float32, int8) allowed, as a fraction of FD(float32, float32 redrawn)
DATA_GATE, SELF_GATE = "data", "self"
BATCH = 256


class OnnxQualityError(OnnxValidationError):
    """A quantized file draws measurably worse samples than the float32 file it came from."""


class OnnxGenerator(GeneratorBase):
    """An ONNX generator file run by onnxruntime on CPU, with a PyTorch generator's interface.

    `G(z)` or `G(z, labels)`: z float32 (N, nz), labels int64 (N,) in [0, num_classes) -> images
    float32 (N, C, H, W) in [-1, 1]. nz, the noise kind, the image shape and the classes come from
    the file's metadata. It has no trainable weights; its one empty parameter tells
    gan_models.sampling which device to put the latents on (CPU).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        meta = read_metadata(path)
        channels, height, width = (int(d) for d in meta["image_shape"].split(","))
        super().__init__(int(meta["nz"]), channels, height, meta["noise"])
        self.num_classes = int(meta.get("num_classes", "0"))
        self.classes = tuple(json.loads(meta["classes"])) if self.num_classes else ()
        self.path = path
        self.session = make_session(path)
        self._device = nn.Parameter(torch.empty(0), requires_grad=False)  # sampling reads the device from it

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """(N, nz) latents (and (N,) int64 labels for a conditional file) -> (N, C, H, W) in [-1, 1]."""
        if labels is None and self.num_classes:
            raise ValueError(f"{self.path} is a conditional generator: pass labels (N,) in [0, {self.num_classes})")
        if labels is not None and not self.num_classes:
            super().forward(z, labels)  # refuses them with the generators' own error
        if self.num_classes:  # the file would draw NaN for a label out of range: refuse it as PyTorch does
            check_labels(labels, len(z), self.num_classes)
        out = [self.session.run([OUTPUT_NAME], feeds(z[i:i + BATCH].cpu(), None if labels is None
                                                     else labels[i:i + BATCH].cpu()))[0]
               for i in range(0, len(z), BATCH)]
        return torch.from_numpy(np.concatenate(out))


def onnx_draw(path: str | os.PathLike, seed: int = 0) -> Callable[[int], torch.Tensor]:
    """draw(n): n uint8 images (n, C, H, W) from the ONNX generator at `path`, run by onnxruntime.

    The images `gan_models.sampling.generate` draws from the PyTorch generator with `seed`: the same
    latents, and image i of class i % num_classes for a conditional file.
    """
    generator = OnnxGenerator(path)
    return lambda n: generate(generator, n, seed)


def evaluate_onnx(path: str | os.PathLike, dataset: str, data_root: str | os.PathLike | None = None, *,
                  n_samples: int = DEFAULT_SAMPLES, seed: int = 0, distribution: bool = True) -> EvaluationReport:
    """evaluate_generator's report for an ONNX generator, drawn by onnxruntime (see OnnxGenerator).

    `distribution=False` skips KID, precision/recall and the FD interval, as evaluate_generator does.
    Raises what evaluate_generator raises, among them DatasetNotFoundError without the data.
    """
    return evaluate_generator(OnnxGenerator(path), dataset, data_root, n_samples=n_samples, seed=seed,
                              distribution=distribution)


@dataclass
class QualityCheck:
    """What check_int8_quality measured, and which gate ran (`gate`: "data" or "self")."""

    gate: str  # DATA_GATE: against the test split; SELF_GATE: against the float32 file's own samples
    dataset: str  # whose shipped classifier gives the features
    samples: int
    fp32_frechet_distance: float | None = None  # data: float32 samples to the test split
    int8_frechet_distance: float | None = None  # data: int8 samples to the test split
    int8_shift: float | None = None  # self: FD between float32 and int8 samples of the same latents
    resample_distance: float | None = None  # self: FD between float32 samples of two different latent draws

    @property
    def relative_change(self) -> float:
        """data: (int8 - fp32) / fp32, positive when int8 is worse; self: int8_shift / resample_distance."""
        if self.gate == DATA_GATE:
            return (self.int8_frechet_distance - self.fp32_frechet_distance) / self.fp32_frechet_distance
        return self.int8_shift / self.resample_distance

    @property
    def passed(self) -> bool:
        """Whether the int8 file is within its gate's tolerance."""
        if self.gate == DATA_GATE:
            return abs(self.relative_change) <= INT8_FD_TOLERANCE
        return self.relative_change <= SELF_GATE_FRACTION

    def __str__(self) -> str:
        if self.gate == DATA_GATE:
            return (f"quality gate 'data': Frechet distance to the {self.dataset} test split ({self.samples} samples, "
                    f"through onnxruntime): float32 {self.fp32_frechet_distance:.3f}, "
                    f"int8 {self.int8_frechet_distance:.3f} ({self.relative_change:+.2%}; "
                    f"allowed +-{INT8_FD_TOLERANCE:.0%})")
        return (f"quality gate 'self' (no {self.dataset} data installed; the {self.dataset} classifier's features, "
                f"{self.samples} samples, through onnxruntime): Frechet distance float32 to int8 on the same latents "
                f"{self.int8_shift:.4f}, float32 to float32 on fresh latents {self.resample_distance:.4f} "
                f"(ratio {self.relative_change:.3f}; allowed {SELF_GATE_FRACTION:g})")


WHAT_TO_TRY = ("try the other int8 method (int8_method='dynamic' or 'static'; --int8-method), or float16 "
               "(--precision float16), which stays within 1e-2 of float32")


def check_int8_quality(fp32_file: str | os.PathLike, int8_file: str | os.PathLike, dataset: str,
                       data_root: str | os.PathLike | None = None, *, n_samples: int = DEFAULT_SAMPLES,
                       seed: int = 0) -> QualityCheck:
    """Gate an int8 file on its float32 origin's sample quality: the "data" gate, or "self" without the data.

    Args:
        fp32_file, int8_file: the float32 ONNX file and its int8 version, of one generator.
        dataset: whose shipped classifier scores the samples ("mnist", "fashion-mnist", "emoji").
        data_root: where the dataset is looked for ($GAN_MODELS_DATA by default); without it the self gate runs.
        n_samples: images per set (the data gate caps them at the test split's size).
        seed: seed of the latents (the self gate's second float32 draw uses seed + 1).

    Returns:
        The QualityCheck, naming the gate that ran.

    Raises:
        OnnxQualityError: the int8 file is outside its gate's tolerance; the message says what to try.
    """
    try:
        fp32 = evaluate_onnx(fp32_file, dataset, data_root, n_samples=n_samples, seed=seed, distribution=False)
    except DatasetNotFoundError:
        check = _self_gate(fp32_file, int8_file, dataset, n_samples, seed)
    else:
        int8 = evaluate_onnx(int8_file, dataset, data_root, n_samples=n_samples, seed=seed, distribution=False)
        check = QualityCheck(DATA_GATE, dataset, fp32.samples, fp32_frechet_distance=fp32.generated.frechet_distance,
                             int8_frechet_distance=int8.generated.frechet_distance)
    if not check.passed:
        raise OnnxQualityError(f"{int8_file}: {check}; {WHAT_TO_TRY}")
    return check


def _self_gate(fp32_file, int8_file, dataset: str, n_samples: int, seed: int) -> QualityCheck:
    """The self gate's three draws (float32 twice, int8 on the first float32 draw's latents) in classifier features."""
    classifier = load_classifier(dataset)

    def statistics(path, draw_seed: int) -> tuple[np.ndarray, np.ndarray]:
        images = to_unit_range(onnx_draw(path, draw_seed)(n_samples))  # the 8-bit images a user saves, as evaluate does
        return feature_statistics(classify(classifier, images)[0])

    fp32, int8, redrawn = statistics(fp32_file, seed), statistics(int8_file, seed), statistics(fp32_file, seed + 1)
    return QualityCheck(SELF_GATE, dataset, n_samples, int8_shift=frechet_distance(*fp32, *int8),
                        resample_distance=frechet_distance(*fp32, *redrawn))
