"""What validate_onnx found, per execution provider and batch size."""
from dataclasses import dataclass, field
from pathlib import Path

from gan_models.export.session import CPU, CUDA


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
    onnx_precision: str  # one of choices.ONNX_PRECISIONS, from the file's metadata
    opset: int
    providers: list[ProviderReport]
    exporter: str = "unknown"  # from the file's metadata; files written before it was recorded say "unknown"

    def provider(self, name: str) -> ProviderReport:
        """The entry for "cpu"/"cuda" or a full provider name."""
        full = {"cpu": CPU, "cuda": CUDA}.get(name, name)
        return next(p for p in self.providers if p.provider == full)

    @property
    def max_abs_diff(self) -> float:
        """The largest difference over every provider and batch size that ran."""
        return max(b.max_abs_diff for p in self.providers for b in p.batches)

    def __str__(self) -> str:
        lines = [f"validated {self.path} ({self.onnx_precision}, opset {self.opset}, {self.exporter} exporter): "
                 "onnxruntime vs PyTorch",
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
