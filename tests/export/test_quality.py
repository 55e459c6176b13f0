"""export/quality.py: onnxruntime's samples scored with the project's metric, and the int8 Frechet-distance check."""
import pytest

from gan_models.export import export_onnx
from gan_models.export.int8 import export_int8_and_validate
from gan_models.export.quality import OnnxQualityError, check_int8_quality, evaluate_onnx
from gan_models.quality.metrics import evaluate_generator
from gan_models.sources import from_hub

pytestmark = pytest.mark.slow  # scores thousands of images against real MNIST


def test_onnxruntime_samples_score_like_the_pytorch_generator(tmp_path, data_root):
    source = from_hub("dcgan", pretrained=True, dataset="mnist")
    fp32 = export_onnx(source.generator, tmp_path / "g.onnx", **source.export_kwargs())
    through_onnx = evaluate_onnx(fp32, "mnist", data_root, n_samples=1000)
    through_torch = evaluate_generator(source.generator, "mnist", data_root, n_samples=1000)
    assert through_onnx.samples == through_torch.samples == 1000
    assert through_onnx.real == through_torch.real  # the same real images and reference on both sides
    # Different latent draws of one generator: the distances agree to a few percent, not exactly.
    assert abs(through_onnx.generated.frechet_distance / through_torch.generated.frechet_distance - 1) < 0.1


def test_pretrained_int8_keeps_the_frechet_distance_and_a_wrong_file_does_not(tmp_path, data_root):
    source = from_hub("fcgan", pretrained=True, dataset="mnist")
    fp32_report, int8_report, quality = export_int8_and_validate(
        source.generator, tmp_path / "fc.int8.onnx", data_root=data_root, quality_samples=2000,
        **source.export_kwargs())
    assert fp32_report.onnx_precision == "fp32" and int8_report.onnx_precision == "int8"
    assert quality.samples == 2000 and abs(quality.relative_change) <= 0.02
    print(f"\n{quality}")
    other = from_hub("lsgan", pretrained=True, dataset="mnist")  # a different generator posing as the int8 file
    other_file = export_onnx(other.generator, tmp_path / "ls.onnx", **other.export_kwargs())
    with pytest.raises(OnnxQualityError, match="allowed \\+-2%"):
        check_int8_quality(tmp_path / "fc.int8.onnx", other_file, "mnist", data_root, n_samples=2000)
