"""gan_models/quality/classifier.py: the shipped classifiers are small, accurate and hash-checked."""
import pytest
import torch

from gan_models import registry
from gan_models.data import load_labelled_images, to_unit_range
from gan_models.quality import classifier
from gan_models.quality.classifier import CLASSIFIERS, Classifier, load_classifier
from gan_models.quality.metrics import (
    classify,
)
from gan_models.registry import WEIGHTS_DIR, WeightsIntegrityError, load_checked_state_dict

# Measured test accuracies (see classifiers.json) less a margin for thread-count round-off.
MIN_ACCURACY = {"mnist": 0.975, "fashion-mnist": 0.895, "emoji": 0.81}
PARAMETERS = {"mnist": 98_442, "fashion-mnist": 98_442, "emoji": 361_002}  # 1 x 28 x 28 and 3 x 64 x 64 inputs


def test_a_tampered_or_missing_shipped_classifier_fails_its_hash_check(tmp_path, monkeypatch):
    record = classifier.CLASSIFIERS["mnist"]
    data = bytearray((registry.WEIGHTS_DIR / record.file).read_bytes())
    (tmp_path / record.file).write_bytes(data)
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    classifier.load_classifier("mnist")  # the faithful copy loads
    data[len(data) // 2] ^= 0x01
    (tmp_path / record.file).write_bytes(data)
    with pytest.raises(WeightsIntegrityError, match=f"hash mismatch for .*{record.file}: expected sha256 "
                                                    f"{record.sha256}, got .*; the file is corrupt or was modified"):
        classifier.load_classifier("mnist")
    (tmp_path / record.file).unlink()
    with pytest.raises(WeightsIntegrityError, match=f"weight file missing: .*{record.file}"):
        classifier.load_classifier("mnist")


@pytest.mark.parametrize("dataset", sorted(CLASSIFIERS))
def test_shipped_classifier_weights_are_small_and_hash_checked(dataset, tmp_path):
    # That each record names an existing file with its sha256 is checked for every record in test_registry.py.
    record = CLASSIFIERS[dataset]
    path = WEIGHTS_DIR / record.file
    parameters = PARAMETERS[dataset]
    assert sum(p.numel() for p in load_classifier(dataset).parameters()) == parameters
    assert path.stat().st_size < 4 * parameters + 10_000  # float32 and little else: 0.4 MB, or 1.5 MB for emoji
    tampered = tmp_path / record.file
    data = bytearray(path.read_bytes())
    data[-100] ^= 1
    tampered.write_bytes(bytes(data))
    with pytest.raises(WeightsIntegrityError, match="hash mismatch"):
        load_checked_state_dict(tampered, record.sha256)


@pytest.mark.parametrize("dataset", sorted(CLASSIFIERS))
def test_classifier_accuracy_on_the_test_split(dataset, data_root):
    images, labels, _ = load_labelled_images(dataset, data_root, split="test")
    assert len(images) == CLASSIFIERS[dataset].test_images
    _, probabilities = classify(load_classifier(dataset), to_unit_range(images))
    accuracy = (probabilities.argmax(axis=1) == labels.numpy()).mean()
    assert accuracy >= MIN_ACCURACY[dataset]


@pytest.mark.parametrize("shape, params", [((1, 28, 28), 98_442), ((3, 64, 64), 361_002)])
def test_classifier_sizes(shape, params):
    net = Classifier(shape)
    assert sum(p.numel() for p in net.parameters()) == params
    assert net.features(torch.zeros(2, *shape)).shape == (2, 128)
    with pytest.raises(ValueError, match=r"images must have shape \(N, 3, 64, 64\)"):
        Classifier((3, 64, 64)).features(torch.zeros(2, 1, 28, 28))


def test_classifier_builds_folder_shapes_and_refuses_unusable_ones():
    # 32 -> 16 -> 8 -> 4: three blocks as at 28, then Linear(64 x 4 x 4, 128) and K logits
    assert sum(p.numel() for p in Classifier((3, 32, 32), 5).parameters()) == (
        (3 * 16 * 9 + 16) + (16 * 32 * 9 + 32) + (32 * 64 * 9 + 64) + (1024 * 128 + 128) + (128 * 5 + 5))
    for shape, classes in (((3, 32, 16), 2), ((3, 4, 4), 2), ((2, 32, 32), 2), ((3, 32, 32), 1)):
        with pytest.raises(ValueError, match=r"takes \(1 or 3, H, H\) images with H >= 8 and >= 2 classes"):
            Classifier(shape, classes)
