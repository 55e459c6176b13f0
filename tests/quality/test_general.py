"""The general extractor and folder evaluation: hash-checked weights, features, floors, the copy check, errors."""
import hashlib

import numpy as np
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from PIL import Image

from gan_models.cli import main
from gan_models.quality.folder import held_out_index
from gan_models.quality.general import (
    FEATURE_DIMS,
    general_features,
    general_record,
    load_general_features,
    random_general_features,
)
from gan_models.quality.metrics import evaluate_samples
from gan_models.registry import WEIGHTS_DIR


def _folder(root, count=60, size=16):
    """`count` images per class of two colour classes with random texture, as PNG files under `root`."""
    rng = np.random.default_rng(0)
    for name, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200))):
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = np.clip(np.array(colour) + rng.integers(-40, 40, (size, size, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def test_the_shipped_extractor_is_hash_checked_and_equals_its_seeded_draws():
    record = general_record()
    data = (WEIGHTS_DIR / record.file).read_bytes()
    assert hashlib.sha256(data).hexdigest() == record.sha256 and len(data) < 2_000_000
    network = load_general_features()
    for (name, shipped), (_, drawn) in zip(network.state_dict().items(), random_general_features().state_dict().items(),
                                           strict=True):
        assert torch.equal(shipped, drawn), name
    assert sum(p.numel() for p in network.parameters()) == record.num_params == 108_976


def test_features_are_256_float64_for_grey_and_colour_images_of_any_size():
    network = load_general_features()
    grey = torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    features = general_features(network, grey)
    assert features.shape == (5, FEATURE_DIMS) == (5, 256) and features.dtype == torch.float64
    assert (features >= 0).all() and features.std(0).max() > 0
    # a grey image is its own RGB repeat
    assert torch.allclose(features, general_features(network, grey.repeat(1, 3, 1, 1)))
    assert general_features(network, torch.zeros(2, 3, 128, 128, dtype=torch.uint8)).shape == (2, 256)


def test_the_held_out_part_is_a_fixed_fifth_disjoint_from_the_rest():
    train, held = held_out_index(100)
    assert len(held) == 20 and len(train) == 80
    assert sorted(torch.cat([train, held]).tolist()) == list(range(100))
    assert torch.equal(held, held_out_index(100)[1])


def test_a_folder_evaluation_reports_every_figure_with_its_floor_and_a_memoriser_scores_copy_distance_0(tmp_path):
    root = _folder(tmp_path / "images")
    train, held = held_out_index(120)
    from gan_models.data import load_images

    images = load_images("folder", root, image_size=16, channels=3)

    def memoriser(n):  # returns training images: the train part, which the copy check searches
        return images[train[:n]]

    report = evaluate_samples(memoriser, "folder", root, n_samples=24, resamples=10, image_shape=(3, 16, 16))
    assert report.samples == 24 and report.features == "general" and report.feature_dims == 256
    assert report.generated is None and report.classifier == ""
    assert "random-weights" in report.feature_limits and "24 of the folder's 120 images" in report.reference
    for part in (report.generated_distribution, report.real_distribution):
        assert part.frechet_distance >= 0 and part.frechet_interval[0] <= part.frechet_interval[1]
    assert report.copy_check.generated_median == 0.0 and report.copy_check.held_out_median > 0.05
    assert report.copy_check.train_images == 96


def test_general_fd_rises_with_blur_and_noise(tmp_path):
    root = _folder(tmp_path / "images")
    from gan_models.data import load_images

    images = load_images("folder", root, image_size=16, channels=3)[held_out_index(120)[0]]  # both classes mixed
    distances = []
    for strength in (0.0, 0.3, 0.6, 1.0):
        def degraded(n, strength=strength):
            x = images[:n].float()
            blurred = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
            noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1)) * 80
            return ((1 - strength) * x + strength * blurred + strength * noise).clamp(0, 255).round().to(torch.uint8)

        report = evaluate_samples(degraded, "folder", root, n_samples=24, resamples=10, image_shape=(3, 16, 16))
        distances.append(report.generated_distribution.frechet_distance)
    assert distances == sorted(distances) and distances[-1] > 10 * distances[0], distances


def test_evaluate_errors_are_one_line(tmp_path):
    result = CliRunner().invoke(main, ["evaluate", "--hub", "fcgan", "--classifier", str(tmp_path / "none.pt")])
    missing = tmp_path / "none.pt"
    assert result.exit_code == 1 and result.output.strip() == f"Error: --classifier {missing}: no such file"
    result = CliRunner().invoke(main, ["evaluate", "--hub", "dcgan64", "--dataset", "folder", "--data-root",
                                       str(tmp_path / "missing"), "--features", "classifier"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert "folder has no shipped classifier" in result.output


def test_a_conditional_generator_is_measured_on_a_folder_without_a_classifier(tmp_path):
    """A `--conditional` folder run: every class drawn in turn, in general features, and no class numbers."""
    from gan_models.quality.metrics import evaluate_generator
    from gan_models.registry import build_generator
    from gan_models.sampling import balanced_labels, generate

    root = _folder(tmp_path / "images")  # two class subfolders
    torch.manual_seed(0)
    generator = build_generator("dcgan64", ngf=4, conditional=True, classes=["blue", "red"]).eval()
    report = evaluate_generator(generator, "folder", root, n_samples=24, resamples=10)
    assert report.features == "general" and report.generated_classes is None and report.generated is None
    assert [w for w in report.warnings if w.startswith("no class numbers")] == [
        f"no class numbers: nothing judges this folder's 2 classes; `gan-models train-classifier --data-root {root} "
        "--out DIR` trains a classifier on them, and --classifier DIR/classifier-folder-<hash>.pt then adds class "
        "accuracy"]

    def balanced(n):  # the same images, drawn for classes 0, 1, 0, 1, ...
        return generate(generator, n, 0, labels=balanced_labels(n, 2))

    expected = evaluate_samples(balanced, "folder", root, n_samples=24, resamples=10, image_shape=(3, 64, 64))
    assert report.generated_distribution.frechet_distance == expected.generated_distribution.frechet_distance
    assert report.generated_distribution.frechet_distance > report.real_distribution.frechet_distance
