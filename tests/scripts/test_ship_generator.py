"""scripts/ship_generator.py: README's table of sample grids, regenerated from the records, and the storage it
picks."""
import dataclasses

import pytest

from gan_models import registry
from tests.helpers import REPO


def test_readme_samples_table_has_a_row_per_model_and_a_column_per_dataset(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    from ship_generator import readme_samples

    dcgan = registry.find_weights("dcgan", "fashion-mnist")
    conditional = dataclasses.replace(dcgan, dataset="mnist", conditional=True)
    emoji = dataclasses.replace(dcgan, model="dcgan64", dataset="emoji")
    lines = readme_samples((emoji, conditional, dcgan)).splitlines()
    assert lines[2:] == [
        "| | mnist | fashion-mnist | emoji |",
        "|---|---|---|---|",
        "| `dcgan64` |  |  | ![dcgan64-emoji](docs/samples/dcgan64-emoji.png) |",
        "| `dcgan` conditional | ![cdcgan-mnist](docs/samples/cdcgan-mnist.png) |  |  |",
        "| `dcgan` |  | ![dcgan-fashion-mnist](docs/samples/dcgan-fashion-mnist.png) |  |",
    ]


def test_readme_tables_are_the_ones_the_records_give(monkeypatch):
    """README's samples table is exactly what ship_generator writes for the shipped records."""
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    from ship_generator import SAMPLES_END, SAMPLES_START, readme_samples

    readme = (REPO / "README.md").read_text()
    committed = readme[readme.index(SAMPLES_START) + len(SAMPLES_START):readme.index(SAMPLES_END)]
    assert committed == f"\n{readme_samples(registry.WEIGHTS)}\n", "run python scripts/ship_generator.py --remeasure"
    for record in registry.WEIGHTS:
        assert (REPO / "docs" / "samples" / f"{record.stem}.png").is_file(), record.stem


@pytest.mark.parametrize(("changes", "failures", "expected"), [
    ({"int8": 0.003, "float16": 0.0003}, {}, "int8"),  # the smallest within 1%
    ({"int8": 0.012, "float16": 0.0003}, {}, "float16"),  # int8 moved the distance by more than 1%
    ({"int8": 0.003, "float16": 0.0003}, {"int8": ["food-drink: 8.2% of samples, 4.1% of real images"]}, "float16"),
    ({"int8": 0.012, "float16": 0.011}, {}, "float32"),
])
def test_pick_storage_keeps_the_distance_within_1_percent_and_the_share_bar(monkeypatch, changes, failures,
                                                                             expected):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    from ship_generator import pick_storage

    failures = {"int8": [], "float16": [], "float32": [], **failures}
    assert pick_storage({**changes, "float32": 0.0}, failures) == expected


def test_the_command_of_an_earlier_checkpoint_stops_at_its_epoch(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    from ship_generator import checkpoint_command

    from gan_models.training.config import TrainConfig

    config = dataclasses.asdict(TrainConfig(model="fcgan", dataset="fashion-mnist", epochs=150, ema_decay=0.999)
                                .resolved().for_data(60_000)[0])  # as a run folder saves it
    state = {"config": config, "num_images": 60_000, "step": 113 * 468}  # 60,000 // 128 = 468 steps an epoch
    assert checkpoint_command(state) == ("gan-models train --model fcgan --dataset fashion-mnist --data-root "
                                         "../shared/data --epochs 113 --ema-decay 0.999")
    assert "--epochs 150" in checkpoint_command({**state, "step": 150 * 468})
    with pytest.raises(ValueError, match="step 52885 is not the end of an epoch"):
        checkpoint_command({**state, "step": 52_885})


def test_an_lr_decay_run_ships_only_its_last_checkpoint(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    from ship_generator import checkpoint_command

    from gan_models.training.config import TrainConfig

    config = dataclasses.asdict(TrainConfig(model="lsgan", dataset="fashion-mnist", epochs=50, lr_decay=True)
                                .resolved().for_data(60_000)[0])
    state = {"config": config, "num_images": 60_000, "step": 28 * 468}
    with pytest.raises(ValueError, match="epoch 28 of a 50-epoch --lr-decay run"):
        checkpoint_command(state)  # a 28-epoch run would decay faster: it is not this checkpoint's command
    assert checkpoint_command({**state, "step": 50 * 468}).endswith("--epochs 50 --lr-decay")
