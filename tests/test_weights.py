"""Shipped generators: present, hash-checked, and as good as their records say (re-measured here)."""
import shutil

import pytest
import torch

from gan_models import registry
from gan_models.data import load_labelled_images
from gan_models.emoji import dataset_credits
from gan_models.quality.metrics import class_share_failures, evaluate_generator
from gan_models.registry import WEIGHTS, WEIGHTS_DIR, WeightsIntegrityError
from tests.helpers import REPO

RECORDS = {(r.model, r.dataset): r for r in WEIGHTS if not r.conditional}
CONDITIONAL_RECORDS = {(r.model, r.dataset): r for r in WEIGHTS if r.conditional}
SHIPPED = [*((model, dataset) for model in ("fcgan", "lsgan", "dcgan") for dataset in ("mnist", "fashion-mnist")),
           ("dcgan64", "emoji")]
# The goals for conditional generators: class accuracy on the project's classifier.
CLASS_ACCURACY_GOAL = {"mnist": 0.97, "fashion-mnist": 0.88}
# Issue 23: a reshipped conditional generator may be no worse in FD than the weights shipped when it was filed.
# (With R1 the unconditional MNIST DCGAN went below its conditional one, 6.1 against 7.7, so that is no longer the
# bound.)
CONDITIONAL_FD_BOUND = {"mnist": 7.711, "fashion-mnist": 5.963}


def test_every_model_ships_for_its_datasets():
    assert sorted(RECORDS) == sorted(SHIPPED)
    assert set(CONDITIONAL_RECORDS) <= {("dcgan", dataset) for dataset in CLASS_ACCURACY_GOAL}


def test_the_weights_folder_stays_within_its_40_mb_budget():
    # Issue 13's budget for everything gan_models/weights/ ships: generators, classifiers and their records.
    total = sum(path.stat().st_size for path in WEIGHTS_DIR.iterdir())
    assert total < 40 * 2**20, total


@pytest.mark.parametrize("record", WEIGHTS, ids=lambda r: r.stem)
def test_pretrained_generator_matches_its_record(record, data_root):
    generator = torch.hub.load(str(REPO), record.model, source="local", pretrained=True, dataset=record.dataset,
                               conditional=record.conditional)
    assert not generator.training
    # Whatever the stored precision, the module computes in float32 with the weights its record's precision decodes to.
    stored = registry.load_shipped_state_dict(record)
    assert all(p.dtype == torch.float32 for p in generator.parameters())
    assert all(torch.equal(generator.state_dict()[k], v.to(generator.state_dict()[k].dtype)) for k, v in stored.items())
    assert sum(p.numel() for p in generator.parameters()) == record.num_params
    assert tuple(generator.image_shape) == record.image_shape
    assert record.file.startswith(f"{'c' if record.conditional else ''}{record.model}-{record.dataset}-"
                                  f"{record.sha256[:12]}")
    report = evaluate_generator(generator, record.dataset, data_root, n_samples=record.eval_samples,
                                distribution=False)  # the records hold FD and class figures, not KID or PRDC
    assert report.generated.frechet_distance == pytest.approx(record.frechet_distance, rel=0.01)
    assert report.generated.classes_covered == record.classes_covered
    assert report.generated.kl_from_uniform == pytest.approx(record.kl_from_uniform, abs=0.005)
    if record.dataset == "emoji":  # unbalanced by nature (59% people-body): each category above 2% of the
        labels = load_labelled_images("emoji", data_root, split="train")[1]  # data drawn within 2x of its real share
        assert class_share_failures(report, (labels.bincount(minlength=10) / len(labels)).tolist()) == []
    else:  # the MNIST family: every class covered, a balanced class histogram
        assert record.classes_covered == 10 and record.kl_from_uniform <= 0.1
    assert tuple(record.credits) == dataset_credits(record.dataset)  # the images' licences, on the model card
    if record.copy_distance is not None:  # no memorising: samples lie as far from the training images as
        assert report.copy_check.generated_median == pytest.approx(record.copy_distance, rel=0.01)  # held-out
        assert record.copy_distance >= 0.8 * record.held_out_copy_distance  # real images do, or farther
    if record.conditional:  # and the class asked for, drawn: re-measured, and at least the goal
        assert generator.num_classes == 10 and generator.classes == tuple(record.generator_kwargs["classes"])
        assert report.generated_classes.class_accuracy == pytest.approx(record.class_accuracy, abs=0.005)
        assert report.generated_classes.intra_class_frechet_distance == pytest.approx(
            record.intra_class_frechet_distance, rel=0.01)
        assert record.class_accuracy >= CLASS_ACCURACY_GOAL[record.dataset]
        assert record.frechet_distance <= CONDITIONAL_FD_BOUND[record.dataset]



# One record per small test split (n <= 2,000, where the bootstrap takes seconds): the numbers come from the same
# code for every record, so two re-measured show the records hold what that code computes.
REMEASURED = [r for r in WEIGHTS if r.stem in ("fcgan-mnist", "dcgan64-emoji")]


@pytest.mark.parametrize("record", REMEASURED, ids=lambda r: r.stem)
def test_the_records_distribution_numbers_are_measured_again(record, data_root):
    generator = registry.load_pretrained_generator(record.model, record.dataset, conditional=record.conditional)
    report = evaluate_generator(generator, record.dataset, data_root, n_samples=record.eval_samples)
    for prefix, measured in (("", report.generated_distribution), ("real_", report.real_distribution)):
        assert measured.frechet_interval == pytest.approx(getattr(record, prefix + "frechet_interval"), rel=0.01)
        assert measured.frechet_interval[0] <= measured.frechet_distance <= measured.frechet_interval[1]
        assert measured.kid == pytest.approx(getattr(record, prefix + "kid"), rel=0.01, abs=1e-4)
        for name in ("precision", "recall", "density", "coverage"):
            assert getattr(measured, name) == pytest.approx(getattr(record, prefix + name), abs=0.002), name


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_dcgan_beats_the_fully_connected_gan(dataset):
    assert RECORDS[("dcgan", dataset)].frechet_distance < RECORDS[("fcgan", dataset)].frechet_distance


def test_a_tampered_shipped_file_fails_its_hash_check(tmp_path, monkeypatch):
    record = RECORDS[("dcgan", "mnist")]
    data = bytearray((WEIGHTS_DIR / record.file).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / record.file).write_bytes(bytes(data))
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    expected = f"hash mismatch for .*{record.file}: expected sha256 {record.sha256}"
    with pytest.raises(WeightsIntegrityError, match=expected):
        registry.load_pretrained_generator("dcgan", "mnist")
    shutil.copy(WEIGHTS_DIR / record.file, tmp_path / record.file)
    assert registry.load_pretrained_generator("dcgan", "mnist").nz == record.generator_kwargs["nz"]
