"""Weight record files: every shipped record names its file and hash, and one reader/writer keeps them valid."""
import dataclasses
import hashlib
import json
import shutil

import pytest
import torch

from gan_models import registry
from gan_models.quality import classifier
from gan_models.quality.classifier import ClassifierRecord
from gan_models.quantize import dequantize_state_dict, quantize_state_dict
from gan_models.registry import (
    RecordFileError,
    WeightRecord,
    WeightsIntegrityError,
    load_checked_state_dict,
    read_records,
    write_record,
)


def _int8_generator_record(folder) -> tuple[WeightRecord, dict]:
    """A fresh FC-GAN stored as int8 in `folder`, its record, and the float32 state dict loading must give."""
    torch.manual_seed(0)
    generator = registry.build_generator("fcgan", ngf=8)
    quantized = quantize_state_dict(generator.state_dict())
    path, sha256 = registry.save_weights(quantized, folder, "fcgan-mnist")
    record = WeightRecord(model="fcgan", dataset="mnist", file=path.name, sha256=sha256,
                          generator_kwargs={"ngf": 8}, storage="int8")
    return record, dequantize_state_dict(quantized)


def _classifier_record(dataset: str, digit: str) -> ClassifierRecord:
    sha256 = digit * 64
    return ClassifierRecord(dataset=dataset, file=f"classifier-{dataset}-{sha256[:12]}.pt", sha256=sha256,
                            train_images=10, test_images=5, test_accuracy=0.5, command="python train.py")


RECORD_FILES = [(registry.MANIFEST, WeightRecord), (classifier.MANIFEST, ClassifierRecord)]


SHIPPED = [(manifest.name, record) for manifest, record_type in RECORD_FILES
           for record in read_records(manifest, record_type)]


def test_both_record_files_ship_their_records():
    assert sorted(r.stem for name, r in SHIPPED if name == "classifiers.json") == [
        "classifier-emoji", "classifier-fashion-mnist", "classifier-mnist"]
    assert len([r for name, r in SHIPPED if name == "generators.json"]) == len(registry.WEIGHTS) == 9


@pytest.mark.parametrize("name, record", SHIPPED, ids=[f"{name}:{r.stem}" for name, r in SHIPPED])
def test_every_shipped_record_names_an_existing_file_with_its_sha256(name, record):
    path = registry.WEIGHTS_DIR / record.file
    assert path.is_file(), f"{name} names {record.file}, which is not in {registry.WEIGHTS_DIR}"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == record.sha256


@pytest.mark.parametrize("manifest, record_type", RECORD_FILES, ids=[m.name for m, _ in RECORD_FILES])
def test_record_files_are_exactly_what_the_writer_writes(manifest, record_type, tmp_path):
    copy = tmp_path / manifest.name
    shutil.copy(manifest, copy)
    for record in read_records(manifest, record_type):
        write_record(copy, record)
    assert copy.read_text() == manifest.read_text()


@pytest.mark.parametrize("change, message", [
    ({"epochs": 3}, r"entry 0: unknown field\(s\) \['epochs'\]; a ClassifierRecord has \['dataset', 'file'"),
    ({"test_accuracy": None}, r"entry 0: .*missing 1 required positional argument: 'test_accuracy'"),
    ({"sha256": "A" * 64}, "entry 0: sha256 must be 64 lowercase hex digits, got 'AAAA"),
    ({"file": "classifier-mnist.pt"},
     "entry 0: file 'classifier-mnist.pt' should be named 'classifier-mnist-aaaaaaaaaaaa.pt'"),
    ({"file": "../classifier-mnist-aaaaaaaaaaaa.pt"},
     r"entry 0: file '\.\./classifier-mnist-aaaaaaaaaaaa.pt' should be named 'classifier-mnist-aaaaaaaaaaaa.pt'"),
])
def test_an_invalid_entry_is_refused_naming_the_file_and_entry(change, message, tmp_path):
    entry = {**dataclasses.asdict(_classifier_record("mnist", "a")), **change}
    entry = {k: v for k, v in entry.items() if v is not None}
    path = tmp_path / "classifiers.json"
    path.write_text(json.dumps([entry]))
    with pytest.raises(RecordFileError, match=f"classifiers.json {message}"):
        read_records(path, ClassifierRecord)


def test_a_missing_record_file_holds_no_records(tmp_path):
    assert read_records(tmp_path / "classifiers.json", ClassifierRecord) == ()


def test_write_record_replaces_the_record_with_its_key_and_deletes_the_old_file(tmp_path):
    path = tmp_path / "classifiers.json"
    old, new = _classifier_record("mnist", "a"), _classifier_record("mnist", "c")
    other = _classifier_record("fashion-mnist", "b")
    for record in (old, other, new):
        (tmp_path / record.file).write_bytes(b"weights")
    assert write_record(path, old) == (old,)
    assert write_record(path, other) == (other, old)  # sorted by dataset
    assert write_record(path, old) == (other, old)  # a byte-identical rerun keeps its file
    assert (tmp_path / old.file).exists()
    assert write_record(path, new) == (other, new)
    assert read_records(path, ClassifierRecord) == (other, new)
    assert not (tmp_path / old.file).exists() and (tmp_path / new.file).exists()


def test_write_record_refuses_a_misnamed_record(tmp_path):
    record = dataclasses.replace(_classifier_record("mnist", "a"), file="classifier-mnist-bbbbbbbbbbbb.pt")
    with pytest.raises(RecordFileError, match="new record for classifiers.json: file 'classifier-mnist-bbbb"):
        write_record(tmp_path / "classifiers.json", record)
    assert not (tmp_path / "classifiers.json").exists()


def test_an_int8_record_is_dequantized_on_loading(tmp_path, monkeypatch):
    record, expected = _int8_generator_record(tmp_path)
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(registry, "WEIGHTS", (record,))
    loaded = registry.load_shipped_state_dict(record)
    assert list(loaded) == list(expected) and all(torch.equal(loaded[k], v) for k, v in expected.items())
    generator = registry.load_pretrained_generator("fcgan", "mnist")
    assert all(p.dtype == torch.float32 for p in generator.parameters())
    assert all(torch.equal(generator.state_dict()[k], v) for k, v in expected.items())


def test_the_record_not_the_keys_decides_whether_a_file_is_dequantized(tmp_path, monkeypatch):
    record, _ = _int8_generator_record(tmp_path)
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(registry, "WEIGHTS", (dataclasses.replace(record, storage="float16"),))
    with pytest.raises(RuntimeError, match=r"3 unexpected \(net.0.weight.scale, net.3.weight.scale, net.6.w"):
        registry.load_pretrained_generator("fcgan", "mnist")


def test_a_generator_record_with_an_unknown_storage_is_refused(tmp_path):
    entry = dataclasses.asdict(registry.WEIGHTS[0]) | {"storage": "int4"}
    path = tmp_path / "generators.json"
    path.write_text(json.dumps([entry]))
    message = r"generators.json entry 0: storage 'int4' is not one of \['float32', 'float16', 'int8'\]"
    with pytest.raises(RecordFileError, match=message):
        read_records(path, WeightRecord)


def test_code_carrying_pickles_are_refused_without_running(code_carrying_files):
    marker, files = code_carrying_files
    for path in files:
        with pytest.raises(WeightsIntegrityError, match="carries code"):
            # the hash matches: only weights_only protects
            load_checked_state_dict(path, hashlib.sha256(path.read_bytes()).hexdigest())
    assert not marker.exists()
