"""gan_models/sources.py: where a generator comes from (checkpoint or hub) and what its metadata records."""
import hashlib

import pytest
import torch

from gan_models.export import (
    export_and_validate,
    from_checkpoint,
    from_hub,
    read_metadata,
)
from gan_models.registry import NoPretrainedWeightsError, build_generator
from gan_models.training.checkpoint import save_checkpoint


def test_checkpoint_source_uses_ema_generator_and_records_its_hash(tmp_path):
    raw, ema = build_generator("fcgan", nz=8, ngf=8), build_generator("fcgan", nz=8, ngf=8)
    path = save_checkpoint({"model": "lsgan", "generator_kwargs": {"nz": 8, "ngf": 8}, "dataset": "mnist",
                            "generator": raw.state_dict(), "ema_generator": ema.state_dict()}, tmp_path / "ckpt.pt")
    source = from_checkpoint(path)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (source.model, source.dataset, source.sha256) == ("lsgan", "mnist", sha256)
    torch.testing.assert_close(source.generator.state_dict(), ema.state_dict())
    export_and_validate(source.generator, tmp_path / "g.onnx", **source.export_kwargs())
    meta = read_metadata(tmp_path / "g.onnx")
    assert (meta["model"], meta["dataset"], meta["source_sha256"]) == ("lsgan", "mnist", sha256)


def test_checkpoint_source_hash_names_the_weights_it_loaded(tmp_path):
    # The recorded sha256 is of the file whose weights were loaded: a file replaced in place gives both anew.
    path = tmp_path / "ckpt.pt"
    for seed in (0, 1):
        torch.manual_seed(seed)
        generator = build_generator("fcgan", nz=8, ngf=8)
        save_checkpoint({"model": "fcgan", "generator_kwargs": {"nz": 8, "ngf": 8}, "dataset": "mnist",
                         "generator": generator.state_dict(), "ema_generator": None}, path)
        source = from_checkpoint(path)
        assert source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        torch.testing.assert_close(source.generator.state_dict(), generator.state_dict(), rtol=0, atol=0)


def test_hub_source_is_reproducible_and_pretrained_is_a_clear_error():
    first, second = from_hub("dcgan", ngf=4), from_hub("dcgan", ngf=4)
    torch.testing.assert_close(first.generator.state_dict(), second.generator.state_dict())
    with pytest.raises(NoPretrainedWeightsError, match="no pretrained weights for 'dcgan' on 'celeba'"):
        from_hub("dcgan", pretrained=True, dataset="celeba")
    with pytest.raises(ValueError, match="only generators are exported"):
        from_hub("dcgan_discriminator")
