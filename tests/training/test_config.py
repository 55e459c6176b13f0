"""TrainConfig: saved configs of any version are read, with old names mapped and missing fields defaulted."""
import dataclasses

import pytest

from gan_models.training.config import TrainConfig, config_differences


def test_saved_configs_of_any_version_are_read():
    # Before the small-data defaults, a config without batch_size or diffaugment meant 128 and none.
    before = {"batch_size": 128, "diffaugment": ""}
    old = TrainConfig.from_dict({"model": "dcgan", "precision": "bf16"})  # before compute_dtype
    assert old == TrainConfig(model="dcgan", compute_dtype="bfloat16", **before)
    assert TrainConfig.from_dict({}) == TrainConfig(**before)  # fields a config lacks (added later) take their defaults
    assert config_differences({"model": "fcgan"}, TrainConfig(model="fcgan", **before)) == []
    assert config_differences({"precision": "bf16"}, TrainConfig(**before)) == [
        "compute_dtype: 'bfloat16' -> 'float32'"]
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


@pytest.mark.parametrize(("images", "given", "batch", "augment", "said"), [
    (300, {}, 32, "color,translation,cutout", "batch size 32 (9 steps an epoch; 128 would give 2) and DiffAugment"),
    (4_999, {}, 32, "color,translation,cutout", "4,999 images is small data (under 5,000)"),
    (5_000, {}, 128, "", None),  # the shipped recipes' data (MNIST's 8,000 and up) keeps batch 128, no augmentation
    (300, {"batch_size": 64}, 64, "color,translation,cutout", "give --diffaugment to choose yourself"),
    (300, {"diffaugment": ""}, 32, "", "give --batch-size to choose yourself"),
    (300, {"ada_target": 0.6}, 32, "", "batch size 32"),  # ADA augments by itself
    (300, {"batch_size": 16, "diffaugment": "cutout"}, 16, "cutout", None),
])
def test_small_data_chooses_batch_32_and_diffaugment_unless_given(images, given, batch, augment, said):
    filled, note = TrainConfig(**given).resolved().for_data(images)
    assert (filled.batch_size, filled.diffaugment) == (batch, augment)
    assert (note is None) if said is None else (said in note and "docs/training.md" in note)
    if "ada_target" in given:
        assert "DiffAugment" not in note
