"""TrainConfig: saved configs of any version are read, with old names mapped and missing fields defaulted."""
import dataclasses

import pytest

from gan_models.training.config import TrainConfig, config_differences


def test_saved_configs_of_any_version_are_read():
    old = TrainConfig.from_dict({"model": "dcgan", "precision": "bf16"})  # before compute_dtype
    assert old == TrainConfig(model="dcgan", compute_dtype="bfloat16")
    assert TrainConfig.from_dict({}) == TrainConfig()  # fields a config lacks (added later) take their defaults
    assert config_differences({"model": "fcgan"}, TrainConfig(model="fcgan")) == []
    assert config_differences({"precision": "bf16"}, TrainConfig()) == ["compute_dtype: 'bfloat16' -> 'float32'"]
    with pytest.raises(ValueError, match=r"unknown training config field\(s\) \['colour'\]"):
        TrainConfig.from_dict({"colour": "red"})


def test_model_defaults_come_from_the_model_spec():
    from gan_models.specs import MODELS

    for name, spec in MODELS.items():
        config = TrainConfig(model=name).resolved()
        assert (config.nz, config.lr_g, config.lr_d, config.loss) == (spec.nz, spec.lr_g, spec.lr_d, spec.loss)
    assert TrainConfig(model="dcgan64", dataset="mnist").resolved().channels == 1  # the dataset's channels
    assert TrainConfig(model="dcgan64", dataset="celeba").resolved().channels == 3


def test_emoji_design_is_checked_and_an_older_config_without_it_resumes():
    with pytest.raises(ValueError, match="emoji_design='apple'"):
        TrainConfig(dataset="emoji", emoji_design="apple").resolved()
    saved = dataclasses.asdict(TrainConfig())
    del saved["emoji_design"]  # a config.json written before the field existed
    assert config_differences(saved, TrainConfig()) == []
    assert config_differences(saved, TrainConfig(emoji_design="google")) == ["emoji_design: 'both' -> 'google'"]
