"""The command line with conditional generators: train --conditional, sample --class, evaluate's class numbers."""
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from gan_models.cli import main
from gan_models.sources import from_checkpoint


@pytest.fixture(scope="module")
def conditional_checkpoint(tmp_path_factory, data_root):
    out = tmp_path_factory.mktemp("run")
    result = CliRunner().invoke(main, ["train", "--model", "dcgan", "--ngf", "4", "--ndf", "4", "--conditional",
                                       "--dataset", "fashion-mnist", "--data-root", str(data_root), "--max-images",
                                       "64", "--batch-size", "32", "--epochs", "1", "--out", str(out),
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    return out / "checkpoint.pt"


def test_sample_a_class_by_name_or_index(conditional_checkpoint, tmp_path):
    runner = CliRunner()
    for which in ("Sneaker", "sneaker", "7"):
        result = runner.invoke(main, ["sample", "--checkpoint", str(conditional_checkpoint), "--class", which,
                                      "-n", "5", "--out", str(tmp_path / f"{which}.npy")])
        assert result.exit_code == 0, result.output
    by_name, by_index = np.load(tmp_path / "Sneaker.npy"), np.load(tmp_path / "7.npy")
    assert by_name.shape == (5, 1, 28, 28) and np.array_equal(by_name, by_index)
    assert np.array_equal(np.load(tmp_path / "sneaker.npy"), by_name)
    generator = from_checkpoint(conditional_checkpoint).generator
    from gan_models.sampling import generate

    assert np.array_equal(by_name, generate(generator, 5, seed=0, labels=torch.full((5,), 7)).numpy())


def test_sample_all_classes_gives_one_row_per_class(conditional_checkpoint, tmp_path):
    result = CliRunner().invoke(main, ["sample", "--checkpoint", str(conditional_checkpoint), "--class", "all",
                                       "-n", "30", "--out", str(tmp_path / "all.png")])
    assert result.exit_code == 0, result.output
    assert "wrote 30 images" in result.output  # 30 // 10 = 3 per class
    with Image.open(tmp_path / "all.png") as grid:
        assert grid.size == (3 * 30 + 2, 10 * 30 + 2)


@pytest.mark.parametrize("arguments, message", [
    (["--class", "Hat"], "Error: unknown class 'Hat'; the classes are ['T-shirt/top', 'Trouser'"),
    (["--class", "10"], "Error: label 10 is out of range: this network has 10 classes, 0..9"),
])
def test_sample_bad_classes_are_one_line(conditional_checkpoint, tmp_path, arguments, message):
    result = CliRunner().invoke(main, ["sample", "--checkpoint", str(conditional_checkpoint), *arguments,
                                       "--out", str(tmp_path / "x.png")])
    assert result.exit_code == 1 and message in result.output and len(result.output.strip().splitlines()) == 1


def test_class_for_an_unconditional_generator_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["sample", "--hub", "fcgan", "--class", "7", "--out", str(tmp_path / "x.png")])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: --class needs a conditional generator; this one is unconditional"


def test_train_conditional_on_unlabelled_data_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["train", "--model", "dcgan64", "--dataset", "celeba", "--conditional",
                                       "--data-root", str(tmp_path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: a conditional GAN needs labelled images, but celeba has no class labels; "
                                     "use mnist, fashion-mnist or a folder with one subfolder of images per class")


def test_evaluate_prints_and_writes_the_class_numbers(conditional_checkpoint, data_root, tmp_path):
    result = CliRunner().invoke(main, ["evaluate", "--checkpoint", str(conditional_checkpoint), "--data-root",
                                       str(data_root), "--samples", "200", "--json", str(tmp_path / "q.json")])
    assert result.exit_code == 0, result.output
    assert "class accuracy (mean over classes)" in result.output
    assert "7 Sneaker: accuracy / FD" in result.output
    import json

    report = json.loads((tmp_path / "q.json").read_text())
    assert len(report["generated_classes"]["per_class_accuracy"]) == 10
    assert report["real_classes"]["class_accuracy"] > 0.85  # the Fashion-MNIST classifier on labelled train images
