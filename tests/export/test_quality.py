"""export/quality.py: onnxruntime's samples scored with the project's metric, and the int8 Frechet-distance check."""
import pytest

from gan_models.export import export_onnx
from gan_models.export.int8 import export_int8_and_validate, quantize_onnx
from gan_models.export.quality import (
    DATA_GATE,
    INT8_FD_TOLERANCE,
    SELF_GATE,
    SELF_GATE_FRACTION,
    OnnxQualityError,
    check_int8_quality,
    evaluate_onnx,
)
from gan_models.quality.metrics import evaluate_generator
from gan_models.sources import from_hub

pytestmark = pytest.mark.slow  # scores thousands of images (against real MNIST where a test takes data_root)


def test_onnxruntime_samples_score_like_the_pytorch_generator(tmp_path, data_root):
    source = from_hub("dcgan", pretrained=True, dataset="mnist")
    fp32 = export_onnx(source.generator, tmp_path / "g.onnx", **source.export_kwargs())
    through_onnx = evaluate_onnx(fp32, "mnist", data_root, n_samples=1000)
    through_torch = evaluate_generator(source.generator, "mnist", data_root, n_samples=1000)
    assert through_onnx.samples == through_torch.samples == 1000
    assert through_onnx.real == through_torch.real  # the same real images and reference on both sides
    # The same latents through both runtimes (OnnxGenerator): float32 agrees to 1e-5 per pixel, so do the distances.
    assert through_onnx.generated.frechet_distance == pytest.approx(through_torch.generated.frechet_distance, rel=1e-4)


def test_pretrained_int8_keeps_the_frechet_distance_and_a_wrong_file_does_not(tmp_path, data_root):
    source = from_hub("fcgan", pretrained=True, dataset="mnist")
    fp32_report, int8_report, quality = export_int8_and_validate(
        source.generator, tmp_path / "fc.int8.onnx", data_root=data_root, quality_samples=2000,
        **source.export_kwargs())
    assert fp32_report.onnx_precision == "float32" and int8_report.onnx_precision == "int8"
    assert quality.gate == DATA_GATE and quality.samples == 2000 and abs(quality.relative_change) <= 0.02
    assert str(quality).startswith("quality gate 'data': Frechet distance to the mnist test split")
    other = from_hub("lsgan", pretrained=True, dataset="mnist")  # a different generator posing as the int8 file
    other_file = export_onnx(other.generator, tmp_path / "ls.onnx", **other.export_kwargs())
    with pytest.raises(OnnxQualityError, match="allowed \\+-2%.*; try the other int8 method"):
        check_int8_quality(tmp_path / "fc.int8.onnx", other_file, "mnist", data_root, n_samples=2000)


@pytest.mark.numerics
def test_without_the_dataset_int8_is_gated_on_the_float32_files_own_samples(tmp_path):
    no_data = tmp_path / "no-data"  # an empty $GAN_MODELS_DATA: "mnist not found" must not stop the export
    no_data.mkdir()
    source = from_hub("fcgan", pretrained=True, dataset="mnist")
    _, int8_report, quality = export_int8_and_validate(
        source.generator, tmp_path / "fc.int8.onnx", data_root=no_data, quality_samples=1000, **source.export_kwargs())
    assert int8_report.onnx_precision == "int8" and quality.gate == SELF_GATE and quality.samples == 1000
    assert quality.fp32_frechet_distance is None and 0 <= quality.int8_shift < quality.resample_distance
    assert quality.relative_change <= SELF_GATE_FRACTION  # measured 0.001 at 2,000 samples
    assert str(quality).startswith("quality gate 'self' (no mnist data installed")
    fp32 = export_onnx(source.generator, tmp_path / "fc.onnx", **source.export_kwargs())
    other = from_hub("lsgan", pretrained=True, dataset="mnist")  # another generator posing as the int8 file
    other_file = export_onnx(other.generator, tmp_path / "ls.onnx", **other.export_kwargs())
    with pytest.raises(OnnxQualityError, match="quality gate 'self'.*allowed 0.05\\); try the other int8 method"):
        check_int8_quality(fp32, other_file, "mnist", no_data, n_samples=1000)


@pytest.mark.numerics
def test_a_conditional_onnx_file_reports_the_pytorch_generators_class_metrics(tmp_path, data_root):
    source = from_hub("dcgan", pretrained=True, dataset="mnist", conditional=True)
    fp32 = export_onnx(source.generator, tmp_path / "c.onnx", **source.export_kwargs())
    int8 = quantize_onnx(fp32, tmp_path / "c.int8.onnx")
    torch_report = evaluate_generator(source.generator, "mnist", data_root, n_samples=1000)
    for path, fd_rtol, accuracy_atol in [(fp32, 1e-4, 1e-9), (int8, INT8_FD_TOLERANCE, 0.01)]:
        report = evaluate_onnx(path, "mnist", data_root, n_samples=1000)
        assert report.samples == torch_report.samples == 1000 and report.real == torch_report.real
        got, want = report.generated_classes, torch_report.generated_classes  # image i is class i % 10 on both
        assert got is not None and want.class_accuracy > 0.9
        assert report.generated.frechet_distance == pytest.approx(torch_report.generated.frechet_distance, rel=fd_rtol)
        assert got.class_accuracy == pytest.approx(want.class_accuracy, abs=accuracy_atol)
        assert got.intra_class_frechet_distance == pytest.approx(want.intra_class_frechet_distance, rel=5 * fd_rtol)
