"""scripts/train_classifier.py: a short run writes its hash-named weight file and its record beside it."""
import hashlib
import os
import subprocess
import sys

import pytest

from gan_models.quality.classifier import CLASSIFIERS, MANIFEST, ClassifierRecord
from gan_models.registry import read_records, write_record
from tests.helpers import REPO


@pytest.mark.slow
def test_a_run_replaces_its_datasets_record_and_keeps_the_others(tmp_path, data_root):
    kept = CLASSIFIERS["fashion-mnist"]
    stale = ClassifierRecord(dataset="mnist", file=f"classifier-mnist-{'0' * 12}.pt", sha256="0" * 64,
                             train_images=1, test_images=1, test_accuracy=0.0, command="an earlier run")
    (tmp_path / stale.file).write_bytes(b"an earlier weight file")
    write_record(tmp_path / MANIFEST.name, kept)
    write_record(tmp_path / MANIFEST.name, stale)
    shipped = MANIFEST.read_bytes()

    command = ["scripts/train_classifier.py", "--dataset", "mnist", "--data-root", str(data_root),
               "--epochs", "1", "--out", str(tmp_path)]
    done = subprocess.run([sys.executable, *command], cwd=REPO, capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr

    other, new = read_records(tmp_path / MANIFEST.name, ClassifierRecord)
    assert other == kept
    assert new.dataset == "mnist" and new.command == (  # --out and this machine's data root are not part of it
        "python scripts/train_classifier.py --dataset mnist --data-root ../shared/data --epochs 1")
    assert (new.train_images, new.test_images) == (8000, 2000) and 0.5 < new.test_accuracy < 1
    assert hashlib.sha256((tmp_path / new.file).read_bytes()).hexdigest() == new.sha256
    assert f'"sha256": "{new.sha256}"' in done.stdout  # the record is printed too
    assert not (tmp_path / stale.file).exists()  # the replaced record's file is deleted
    assert MANIFEST.read_bytes() == shipped  # --out leaves the shipped records alone


def test_the_recorded_command_is_the_one_that_retrains_the_shipped_emoji_classifier(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    from train_classifier import build_parser, reproducing_command

    parser = build_parser()
    args = parser.parse_args(["--dataset", "emoji", "--data-root", "/somewhere/data", "--epochs", "15",
                              "--max-shift", "4", "--flip", "--out", "/tmp/elsewhere"])
    shipped = next(r for r in read_records(MANIFEST, ClassifierRecord) if r.dataset == "emoji")
    assert reproducing_command(parser, args) == shipped.command == (
        "python scripts/train_classifier.py --dataset emoji --data-root ../shared/data --epochs 15 --max-shift 4 "
        "--flip")
