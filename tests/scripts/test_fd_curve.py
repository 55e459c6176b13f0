"""scripts/fd_curve.py: training time per step and the Frechet distances from log.csv, and the plotted points."""
import json

import pytest

from gan_models.training.trainer import train
from tests.helpers import REPO, tiny_config


@pytest.fixture
def fd_curve(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    import fd_curve

    return fd_curve


def fake_run(folder, rates, distances, model="dcgan", dataset="mnist", kid="0.1"):
    """A run folder: batch 4, one log.csv row per images/s in `rates`, with fd on the steps of {step: distance}
    and `kid` beside it ("" as in logs from before KID was measured)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"batch_size": 4, "model": model, "dataset": dataset,
                                                    "conditional": False}))
    rows = [f"{step},1,0.5,0.5,0.5,0.5,{rate}," + (f"{distances[step]},{kid},1.0" if step in distances else ",")
            for step, rate in enumerate(rates, start=1)]
    (folder / "log.csv").write_text("\n".join(["step,epoch,errD,errG,D_x,D_G_z,images_per_s,fd,kid,eval_s", *rows])
                                    + "\n")
    return folder


def test_training_time_adds_each_steps_batch_over_its_rate(tmp_path, fd_curve):
    run = fake_run(tmp_path / "run", rates=[2, 4, 8], distances={3: 5.0, 2: 7.0})
    assert fd_curve.step_seconds(run) == {1: 2.0, 2: 3.0, 3: 3.5}  # 4/2, + 4/4, + 4/8
    assert fd_curve.curve(run) == [(3.0, 2, 7.0, 0.1), (3.5, 3, 5.0, 0.1)]
    old = fake_run(tmp_path / "old", rates=[2, 4], distances={2: 7.0}, kid="")
    assert fd_curve.curve(old) == [(3.0, 2, 7.0, None)]


def test_the_x_axis_is_minutes_in_training_steps_or_the_step(tmp_path, fd_curve):
    run = fake_run(tmp_path / "run", rates=[1, 1], distances={1: 40.0, 2: 20.0})
    points = fd_curve.curve(run)
    assert fd_curve.x_values(points, "minutes") == [4 / 60, 8 / 60]
    assert fd_curve.x_values(points, "steps") == [1, 2]


def test_plot_draws_a_panel_per_model_and_dataset_and_writes_the_points(tmp_path, fd_curve):
    run = fake_run(tmp_path / "dcgan-mnist", rates=[1, 1], distances={1: 40.0, 2: 20.0})
    other = fake_run(tmp_path / "dcgan-mnist-da", rates=[2], distances={1: 30.0}, kid="")
    fashion = fake_run(tmp_path / "fcgan-fashion", rates=[4], distances={1: 50.0}, model="fcgan",
                       dataset="fashion-mnist")
    panels = fd_curve.plot({run: 13.4, other: None, fashion: 25.5}, tmp_path / "docs" / "fd.png")
    assert panels == ["dcgan mnist", "fcgan fashion-mnist"]  # two mnist DCGAN runs share a column
    assert (tmp_path / "docs" / "fd.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "docs" / "fd.json").read_text()) == {
        "dcgan-mnist": [{"seconds": 4, "step": 1, "frechet_distance": 40.0, "kid": 0.1},
                        {"seconds": 8, "step": 2, "frechet_distance": 20.0, "kid": 0.1}],
        "dcgan-mnist-da": [{"seconds": 2, "step": 1, "frechet_distance": 30.0, "kid": None}],
        "fcgan-fashion": [{"seconds": 1, "step": 1, "frechet_distance": 50.0, "kid": 0.1}]}


def test_the_curve_is_what_train_eval_every_logged(tmp_path, data_root, fd_curve):
    run = tmp_path / "run"
    train(tiny_config(dataset="mnist", data_root=str(data_root), max_images=64, epochs=1, eval_every=2,
                      eval_samples=200), run)
    seconds = fd_curve.step_seconds(run)
    rows = [line.split(",") for line in (run / "log.csv").read_text().splitlines()[1:]]
    assert fd_curve.curve(run) == [(seconds[step], step, float(rows[step - 1][7]), float(rows[step - 1][8]))
                                   for step in (2, 4)]


def test_kept_curves_are_drawn_again_beside_new_runs_and_written_back(tmp_path, fd_curve):
    old = fake_run(tmp_path / "old", rates=[1, 1], distances={1: 40.0, 2: 20.0}, model="dcgan64", dataset="emoji")
    again = fake_run(tmp_path / "again", rates=[2], distances={1: 30.0}, model="dcgan64", dataset="emoji")
    fd_curve.plot({old: None, again: None}, tmp_path / "first.png", "steps")
    kept = fd_curve.kept_curves(tmp_path / "first.json")
    assert kept == {"old": [(4, 1, 40.0, 0.1), (8, 2, 20.0, 0.1)], "again": [(2, 1, 30.0, 0.1)]}
    (again / "log.csv").write_text((again / "log.csv").read_text() + "2,1,0.5,0.5,0.5,0.5,2,25.0,0.2,1.0\n")
    new = fake_run(tmp_path / "new", rates=[4], distances={1: 10.0}, model="dcgan64", dataset="emoji")
    assert fd_curve.plot({again: None, new: 8.0}, tmp_path / "second.png", "steps", kept) == ["dcgan64 emoji"]
    assert json.loads((tmp_path / "second.json").read_text()) == {  # "again" from its folder, now two points
        "old": [{"seconds": 4, "step": 1, "frechet_distance": 40.0, "kid": 0.1},
                {"seconds": 8, "step": 2, "frechet_distance": 20.0, "kid": 0.1}],
        "again": [{"seconds": 2, "step": 1, "frechet_distance": 30.0, "kid": 0.1},
                  {"seconds": 4, "step": 2, "frechet_distance": 25.0, "kid": 0.2}],
        "new": [{"seconds": 1, "step": 1, "frechet_distance": 10.0, "kid": 0.1}]}


def test_kept_curves_need_runs_of_one_model_and_dataset(tmp_path, fd_curve):
    mnist = fake_run(tmp_path / "mnist", rates=[1], distances={1: 9.0})
    emoji = fake_run(tmp_path / "emoji", rates=[1], distances={1: 40.0}, model="dcgan64", dataset="emoji")
    with pytest.raises(ValueError, match="2 columns"):
        fd_curve.plot({mnist: None, emoji: None}, tmp_path / "fd.png", kept={"old": [(1, 1, 5.0, None)]})
