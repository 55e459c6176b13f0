"""`gan-models train-classifier` on a tiny labelled folder, then evaluate with its class numbers."""
import json

import torch
from click.testing import CliRunner

from gan_models.cli import main
from gan_models.quality.metrics import evaluate_samples
from tests.quality.test_general import _folder


def test_a_folder_classifier_trains_then_gives_evaluate_its_class_numbers(tmp_path):
    root = _folder(tmp_path / "images", count=40)
    out = tmp_path / "clf"
    result = CliRunner().invoke(main, ["train-classifier", "--data-root", str(root), "--out", str(out),
                                       "--image-size", "16", "--epochs", "3", "--batch-size", "16"])
    assert result.exit_code == 0, result.output
    (record,) = json.loads((out / "classifiers.json").read_text())
    assert record["classes"] == ["blue", "red"] and record["image_shape"] == [3, 16, 16]
    assert record["train_images"] == 64 and record["test_images"] == 16 and record["test_accuracy"] == 1.0
    red = torch.tensor([200, 30, 30], dtype=torch.uint8)[None, :, None, None].expand(24, 3, 16, 16).contiguous()
    report = evaluate_samples(lambda n: red[:n], "folder", root, n_samples=16, resamples=10,
                              classifier=out / record["file"], features="classifier")
    assert report.class_names == ["blue", "red"] and report.generated.class_histogram == [0.0, 1.0]
    assert report.generated.classes_covered == 1 and report.real.classes_covered == 2
    assert report.feature_dims == 128 and report.generated_distribution.frechet_distance > \
        10 * report.real_distribution.frechet_distance


def test_a_folder_without_class_subfolders_is_one_line(tmp_path):
    (tmp_path / "flat").mkdir()
    result = CliRunner().invoke(main, ["train-classifier", "--data-root", str(tmp_path / "flat"), "--out",
                                       str(tmp_path / "clf")])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert str(tmp_path / "flat") in result.output
