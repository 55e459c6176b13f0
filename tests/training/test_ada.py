"""--ada and --r1: ADA's p against the paper's rule on hand-made D outputs, its per-image augmentation, R1's term and
lazy scaling in the trainer, the log columns and checkpoint entry, exact resume through a kill, and the options."""
import dataclasses
import os
import signal

import numpy as np
import pytest
import torch
from PIL import Image

from gan_models.training import trainer as trainer_module
from gan_models.training.ada import AdaptiveAugment
from gan_models.training.augment import diff_augment, diff_augment_with_probability
from gan_models.training.checkpoint import load_checkpoint
from gan_models.training.config import RESUMABLE_CHANGES, TrainConfig, config_differences
from gan_models.training.trainer import Trainer, TrainingInterrupted, train
from tests.helpers import (
    TINY_ARGS,
    assert_same_checkpoint,
    one_error_line,
    read_log,
    run_cli,
    signal_after_step,
    tiny_config,
    wait_for,
)

ADA_R1 = {"ada_target": 0.6, "ada_kimg": 1, "r1_gamma": 1.0, "r1_every": 3}  # p moves 16 * 4 / 1000 an adjustment


def logits(positive: int, negative: int, zero: int = 0) -> torch.Tensor:
    """A batch of D outputs (N, 1) with that many positive, negative and zero raw scores."""
    return torch.tensor([2.5] * positive + [-0.3] * negative + [0.0] * zero).view(-1, 1)


def test_p_moves_by_the_papers_rule_on_hand_made_d_outputs():
    # Batch 10, interval 4, kimg 1: each adjustment moves p by 10 * 4 / (1 * 1000) = 0.04, on 40 signs.
    ada = AdaptiveAugment(target=0.6, interval=4, kimg=1, batch_size=10)
    blocks = [  # four D steps' outputs each -> (r_t, p after the adjustment), worked out by hand
        ([logits(0, 10)] * 4, -1.0, 0.0),  # r_t = -40/40 below the target: p - 0.04, clamped at 0
        ([logits(10, 0)] * 4, 1.0, 0.04),  # r_t = 1 above it: p + 0.04
        ([logits(10, 0), logits(10, 0), logits(6, 4), logits(6, 4)], 0.6, 0.04),  # (32 - 8) / 40 = 0.6: p stays
        ([logits(9, 0, 1)] * 4, 0.9, 0.08),  # zeros count as 0: 36 / 40 = 0.9, p + 0.04
        ([logits(5, 5)] * 4, 0.0, 0.04),  # 0 / 40 below: p - 0.04
    ]
    step = 0
    for outputs, r_t, p in blocks:
        for batch in outputs:
            before = ada.p
            ada.observe(batch)
            step += 1
            assert ada.maybe_adjust(step) == (step % 4 == 0)
            if step % 4:
                assert ada.p == before  # p moves only every 4 steps
        assert ada.r_t == pytest.approx(r_t, abs=1e-12) and ada.p == pytest.approx(p, abs=1e-12)
    ada.p = 0.99
    for step in range(21, 25):
        ada.observe(logits(10, 0))
        ada.maybe_adjust(step)
    assert ada.p == 1.0  # 0.99 + 0.04 clamped at 1


def test_p_continues_exactly_from_its_state_mid_interval():
    whole, first = (AdaptiveAugment(0.6, 4, 1, 8) for _ in range(2))
    outputs = [logits(8 - k % 3, k % 3) for k in range(1, 19)]
    for step, batch in enumerate(outputs, 1):
        whole.observe(batch)
        whole.maybe_adjust(step)
    for step, batch in enumerate(outputs[:6], 1):  # stops after step 6: two steps' signs since the adjustment
        first.observe(batch)
        first.maybe_adjust(step)
    second = AdaptiveAugment(0.6, 4, 1, 8)
    second.load_state_dict(first.state_dict())
    assert second.state_dict() == first.state_dict() and first.state_dict()["count"] == 16
    for step, batch in enumerate(outputs[6:], 7):
        second.observe(batch)
        second.maybe_adjust(step)
    assert second.state_dict() == whole.state_dict() and whole.p > 0


def test_p_0_leaves_the_images_and_p_1_is_diff_augment_after_the_mask_draws():
    images = torch.rand(6, 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    policy = ("color", "translation", "cutout")
    generator = torch.Generator().manual_seed(5)
    assert diff_augment_with_probability(images, policy, 0.0, generator) is images
    assert torch.equal(generator.get_state(), torch.Generator().manual_seed(5).get_state())  # nothing drawn
    expected_rng = torch.Generator().manual_seed(5)
    torch.rand(len(policy), 6, generator=expected_rng)  # the masks, drawn first
    expected = diff_augment(images, policy, expected_rng)
    assert torch.equal(diff_augment_with_probability(images, policy, 1.0, torch.Generator().manual_seed(5)), expected)


def test_each_transformation_reaches_a_share_p_of_the_images_independently():
    # On constant grey images colour shifts every pixel off 1 and cutout zeroes a square, so each shows on its own.
    n, p = 10_000, 0.3
    out = diff_augment_with_probability(torch.ones(n, 1, 8, 8), ("color", "cutout"), p,
                                        torch.Generator().manual_seed(0))
    kept = out[out != 0].view(-1)
    coloured = ((out != 0) & (out != 1)).flatten(1).any(dim=1)
    cut = (out == 0).flatten(1).any(dim=1)
    bound = 4 * (p * (1 - p) / n) ** 0.5  # 4 binomial standard deviations: 0.018
    assert abs(coloured.float().mean().item() - p) < bound and abs(cut.float().mean().item() - p) < bound
    both = (coloured & cut).float().mean().item()
    assert abs(both - p * p) < 4 * (p * p * (1 - p * p) / n) ** 0.5  # drawn independently: 0.09
    assert kept.numel() > 0


def test_ada_augments_every_image_d_sees_in_the_d_step_the_g_step_and_r1(tmp_path, tiny_images):
    trainer = Trainer(tiny_config(diffaugment="cutout", ada_target=0.6, r1_gamma=1.0, r1_every=1), tmp_path,
                      images=tiny_images)
    seen = []
    trainer.netD.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    real = tiny_images[:16].float() / 127.5 - 1  # (k + 0.5) / 127.5 - 1... never exactly 0
    trainer.train_step(real)
    assert len(seen) == 3  # real and fake together, R1's reals, the G step's fakes
    assert all(not (batch == 0).flatten(1).any(dim=1).any() for batch in seen)  # p = 0 at first: none cut
    trainer.ada.p, seen[:] = 1.0, []
    trainer.train_step(real)
    assert [len(batch) for batch in seen] == [32, 16, 16]
    assert all((batch == 0).flatten(1).any(dim=1).all() for batch in seen)  # p = 1: every image lost a square


class SquareD(torch.nn.Module):
    """D(x) = sum(w * x^2) per image, whose input gradient is 2 w x: R1 is known in closed form."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.linspace(-1, 1, 784).view(1, 1, 28, 28))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.w * x.pow(2)).flatten(1).sum(dim=1, keepdim=True)


def test_r1_is_k_times_gamma_over_2_times_the_squared_gradient_norm_on_lazy_steps_only(tmp_path, tiny_images):
    gamma, k = 3.0, 4
    trainer = Trainer(tiny_config(r1_gamma=gamma, r1_every=k), tmp_path, images=tiny_images)
    trainer.netD = SquareD()
    trainer.optD = torch.optim.Adam(trainer.netD.parameters(), lr=1e-2)
    real = tiny_images[:16].float() / 127.5 - 1
    for step in range(1, 9):
        w = trainer.netD.w.detach().clone().double()
        row = trainer.train_step(real)
        if step % k:
            assert "r1" not in row
            continue
        squared_norms = (2 * w * real.double()).pow(2).flatten(1).sum(dim=1)  # ||2 w x||^2 per image
        assert row["r1"] == pytest.approx(k * gamma / 2 * squared_norms.mean().item(), rel=1e-5)


def test_r1_on_a_batchnorm_critic_warns_as_the_gradient_penalty_does(tmp_path):
    images = torch.randint(0, 256, (16, 3, 64, 64), dtype=torch.uint8)
    config = tiny_config(model="dcgan64", dataset="folder", nz=None, ngf=2, ndf=2, batch_size=8, r1_gamma=1.0)
    assert Trainer(config, tmp_path, images=images).report.warnings == [
        "dcgan64's critic has BatchNorm, which mixes the images of a batch; R1 assumes each score depends on its own "
        "image alone (Gulrajani et al. 2017 use no BatchNorm in the critic)"]


def test_an_interrupted_ada_r1_run_resumes_to_the_uninterrupted_one_with_its_log(tmp_path, tiny_images, monkeypatch):
    config = tiny_config(epochs=3, **ADA_R1)  # 12 steps; adjustments at 4, 8, 12; R1 at 3, 6, 9, 12
    whole = train(config, tmp_path / "whole", images=tiny_images)
    trainer = Trainer(config, tmp_path / "split", images=tiny_images)
    signal_after_step(trainer, 6, monkeypatch)  # two steps' signs since the last adjustment
    with pytest.raises(TrainingInterrupted):
        trainer.fit()
    assert load_checkpoint(tmp_path / "split" / "checkpoint.pt")["ada"]["count"] == 2 * 16
    train(config, tmp_path / "split", resume=True, images=tiny_images)
    final = load_checkpoint(whole.checkpoint)
    assert_same_checkpoint(final, load_checkpoint(tmp_path / "split" / "checkpoint.pt"))
    log = read_log(tmp_path / "whole")
    assert log == read_log(tmp_path / "split")
    # p is logged after each step: 0 until the first adjustment raises it by 16 * 4 / 1000 (random images: D is sure).
    p = [float(row["ada_p"]) for row in log]
    assert p[:3] == [0.0] * 3 and p[3] == pytest.approx(0.064) and p[-1] == final["ada"]["p"] > 0
    assert [row["ada_r_t"] == "" for row in log] == [True] * 3 + [False] * 9
    assert [int(row["step"]) for row in log if row["r1"]] == [3, 6, 9, 12]
    assert all(float(row["r1"]) > 0 for row in log if row["r1"])


def test_a_checkpoint_without_ada_state_resumes_with_p_0(tmp_path, tiny_images):
    first = Trainer(tiny_config(**ADA_R1), tmp_path / "a", images=tiny_images)
    first.ada.p = 0.5
    state = first.state_dict()
    assert state["ada"]["p"] == 0.5
    del state["ada"]  # as written before --ada existed
    second = Trainer(tiny_config(**ADA_R1), tmp_path / "b", images=tiny_images)
    second.load_state_dict(state)
    assert second.ada.p == 0.0 and second.ada.r_t is None
    assert Trainer(tiny_config(), tmp_path / "c", images=tiny_images).state_dict()["ada"] is None


def test_tensorboard_gets_p_r_t_and_r1(tmp_path, tiny_images, monkeypatch):
    from gan_models.training import runlog

    written = []

    class Recorder:
        def add_scalar(self, tag, value, step):
            written.append((tag, step))

        def close(self):
            pass

    monkeypatch.setattr(runlog, "_tensorboard_writer", lambda folder: Recorder())
    train(tiny_config(epochs=2, **ADA_R1), tmp_path, images=tiny_images)
    assert [step for tag, step in written if tag == "ada_p"] == list(range(1, 9))
    assert [step for tag, step in written if tag == "ada_r_t"] == [4, 5, 6, 7, 8]
    assert [step for tag, step in written if tag == "r1"] == [3, 6]


def random_folder(root, n: int = 64):
    """An image folder of `n` random 28 x 28 grey PNGs."""
    root.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(root / f"{i:03d}.png")
    return root


def test_sigkill_mid_run_then_resume_ends_bit_identical_with_p(tmp_path, worker):
    """Kill a run inside the checkpoint write of step 26: it resumes from step 24, four steps into an ADA interval
    with p raised, and ends with the uninterrupted run's checkpoint (p and ADA's sums included) and log."""
    folder = random_folder(tmp_path / "images")
    # 4 steps an epoch, 32 in all; p adjusted every 5 steps by 16 * 5 / 1000 = 0.08; a fast D (lr 0.005) raises it.
    args = ["train", *TINY_ARGS, "--dataset", "folder", "--data-root", folder, "--channels", 1, "--epochs", 8,
            "--lr-d", 0.005, "--ada", "--ada-interval", 5, "--ada-kimg", 1, "--r1", 1, "--r1-every", 3,
            "--checkpoint-every", 13]
    reference = tmp_path / "reference"
    assert worker.run(args + ["--out", reference], tmp_path / "reference.log") == 0
    out, log = tmp_path / "killed", tmp_path / "killed.log"
    pid = worker.start(args + ["--out", out], log, stall_write_at_step=26)
    wait_for(lambda: log.exists() and "stalled writing step 26" in log.read_text(), log)
    assert not worker.finished()
    os.kill(pid, signal.SIGKILL)
    assert worker.wait() == -signal.SIGKILL, log.read_text()
    killed = load_checkpoint(out / "checkpoint.pt")
    assert killed["step"] == 24 and killed["ada"]["count"] == 4 * 16 and killed["ada"]["p"] > 0
    assert worker.run(args + ["--out", out, "--resume"], tmp_path / "final.log") == 0, \
        (tmp_path / "final.log").read_text()
    state = load_checkpoint(reference / "checkpoint.pt")
    assert_same_checkpoint(state, load_checkpoint(out / "checkpoint.pt"))
    logged = read_log(out)
    assert logged == read_log(reference)
    assert float(logged[-1]["ada_p"]) == state["ada"]["p"]
    assert len({row["ada_p"] for row in logged}) >= 3  # p rose and moved again


@pytest.fixture
def captured_config(monkeypatch):
    """The TrainConfig `gan-models train` would train with, instead of training."""
    seen = []

    def capture(config, out, resume=False):
        seen.append(config)
        raise SystemExit(0)

    monkeypatch.setattr(trainer_module, "train", capture)
    return seen


@pytest.mark.parametrize("args, target, gamma", [
    ([], 0.0, 0.0), (["--ada"], 0.6, 0.0), (["--ada", "0.7", "--r1", "10"], 0.7, 10.0),
    (["--ada", "--r1", "0.5"], 0.6, 0.5), (["--ada-target", "0.4", "--r1-gamma", "2"], 0.4, 2.0)])
def test_ada_alone_means_the_papers_target_and_r1_takes_gamma(tmp_path, captured_config, args, target, gamma):
    result = run_cli("train", *TINY_ARGS, *args, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert (captured_config[0].ada_target, captured_config[0].r1_gamma) == (target, gamma)


@pytest.mark.parametrize("args, message", [
    (["--ada", "1.5"], "invalid training config: ada_target=1.5 (give a target between 0 and 1, or 0 for off)"),
    (["--ada", "--ada-interval", "0"], "ada_interval=0 (give 1 or more)"),
    (["--ada", "--ada-kimg", "0"], "ada_kimg=0 (give 1 or more)"),
    (["--r1", "-1"], "r1_gamma=-1.0 (give 0 or more)"),
    (["--r1", "inf"], "r1_gamma=inf"),
    (["--r1", "1", "--r1-every", "0"], "r1_every=0 (give 1 or more)"),
    (["--ada-interval", "8"], "ada_interval=8 applies with --ada only, which is off; give --ada, or leave "
                              "--ada-interval out"),
    (["--ada-kimg", "100"], "ada_kimg=100 applies with --ada only"),
    (["--r1-every", "4"], "r1_every=4 applies with --r1 only, which is off; give --r1, or leave --r1-every out"),
])
def test_bad_ada_and_r1_values_are_refused_in_one_line(tmp_path, args, message):
    line = one_error_line(run_cli("train", *TINY_ARGS, *args, "--out", tmp_path / "run"))
    assert message in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("field, value", [("ada_target", -0.2), ("ada_target", 1.0), ("ada_target", float("nan")),
                                          ("r1_gamma", float("nan"))])
def test_targets_outside_0_to_1_and_nan_are_refused(field, value):
    # Click reads "--ada -0.2" as an unknown option "-0" (as for --eval-every), so a negative target is a config's.
    with pytest.raises(ValueError, match=f"invalid training config: {field}={value}"):
        tiny_config(**{field: value}).resolved()


def test_ada_and_r1_settings_cannot_change_on_resume():
    names = {"ada_target", "ada_interval", "ada_kimg", "r1_gamma", "r1_every"}
    assert names <= {field.name for field in dataclasses.fields(TrainConfig)} and not names & RESUMABLE_CHANGES
    saved = dataclasses.asdict(tiny_config(ada_target=0.6, r1_gamma=1.0))
    assert config_differences(saved, tiny_config(ada_target=0.5, r1_gamma=1.0, r1_every=8)) == [
        "ada_target: 0.6 -> 0.5", "r1_every: 16 -> 8"]


def test_train_help_shows_ada_and_r1():
    text = " ".join(run_cli("train", "--help").output.split())
    for flags in ("--ada, --ada-target FLOAT", "--ada-interval INTEGER", "--ada-kimg INTEGER",
                  "--r1, --r1-gamma FLOAT", "--r1-every INTEGER"):
        assert flags in text
    assert "alone, 0.6 (the paper's)" in text
