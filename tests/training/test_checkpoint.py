"""gan_models/training/checkpoint.py: atomic writes survive SIGKILL and full disks, untrusted or damaged files are
one clear error, the EMA generator is preferred, and checkpoints written before the reshape still load and
replay."""
import hashlib
import json
import os
import random
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from gan_models.cli import main
from gan_models.sources import from_checkpoint
from gan_models.training import checkpoint as checkpoint_module
from gan_models.training import rundir
from gan_models.training.checkpoint import CheckpointError, load_checkpoint
from gan_models.training.trainer import TrainConfig, train
from tests.helpers import (
    TINY_ARGS,
    assert_same_checkpoint,
    assert_same_state,
    logged_step,
    one_error_line,
    partial_writes,
    read_log,
    tiny_config,
    wait_for,
    weights,
)


def _fail_checkpoint_write(monkeypatch, how: str, checkpoint: Path) -> dict:
    """Make the second write of `checkpoint` fail as `how` says; returns what it held just before."""
    seen = {"calls": 0, "before": None}
    real_save, real_replace, real_mkstemp = torch.save, os.replace, tempfile.mkstemp

    def failing_save(obj, file, *args, **kwargs):
        seen["calls"] += 1
        if seen["calls"] == 2:
            seen["before"] = checkpoint.read_bytes()
            file.write(b"PK\x03\x04 half a checkpoint")
            raise OSError(28, "No space left on device")
        return real_save(obj, file, *args, **kwargs)

    def failing_replace(src, dst, *args, **kwargs):
        if Path(dst) == checkpoint:
            seen["calls"] += 1
            if seen["calls"] == 2:
                seen["before"] = checkpoint.read_bytes()
                raise OSError(28, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    def failing_mkstemp(*args, **kwargs):  # only for the checkpoint: the run's other files still get written
        if kwargs.get("prefix") == f".{checkpoint.name}.":
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(*args, **kwargs)

    if how == "torch.save":
        monkeypatch.setattr(checkpoint_module.torch, "save", failing_save)
    elif how == "os.replace":
        monkeypatch.setattr(os, "replace", failing_replace)
    else:
        monkeypatch.setattr(tempfile, "mkstemp", failing_mkstemp)
    return seen


@pytest.mark.slow
def test_sigkill_at_20_random_moments_then_resume_equals_uninterrupted_run(tmp_path, worker, data_root):
    """SIGKILL a training process 20 times, resuming each time; the result is the uninterrupted run's, bit for bit.

    The moments are seeded: some during start-up (lock, loading the checkpoint), some after a random
    step, some while a checkpoint's temporary file is being written. After every kill the checkpoint
    must load (never half a file), never go back in time, and the next run must take over the stale lock.
    """
    steps_per_epoch, epochs = 10, 8
    args = ["train", *TINY_ARGS, "--dataset", "mnist", "--data-root", data_root, "--max-images", 16 * steps_per_epoch,
                   "--epochs", epochs, "--checkpoint-every", 1]
    total = steps_per_epoch * epochs
    began = time.monotonic()
    reference = tmp_path / "reference"
    assert worker.run(args + ["--out", reference], tmp_path / "reference.log") == 0
    reference_s = time.monotonic() - began

    out, rng = tmp_path / "killed", random.Random(6)
    # Every child stalls half-way through a checkpoint write (the last one at the latest), so none can finish before
    # its kill however fast the steps are; a "write" kill stalls at a random step, where polling for the short-lived
    # temporary file used to race the run.
    targets = iter(sorted(rng.sample(range(2, total - 30), 20)))
    kinds, last_step, mid_write = [], 0, 0
    began = time.monotonic()
    for attempt in range(20):
        kind = rng.choice(["startup", "step", "write"])
        log = tmp_path / f"attempt{attempt}.log"
        resume = ["--resume"] if (out / "checkpoint.pt").exists() else []
        target = next(targets) if kind != "startup" else total
        stall_at = target if kind == "write" else total
        pid = worker.start(args + ["--out", out] + resume, log, stall_write_at_step=stall_at)
        if kind == "startup":
            time.sleep(rng.uniform(0.0, 0.25))
        elif kind == "step":
            wait_for(lambda target=target: logged_step(out) >= target, log)
            time.sleep(rng.uniform(0.0, 0.02))
        else:
            wait_for(lambda log=log: log.exists() and "stalled writing step" in log.read_text(), log)
        assert not worker.finished(), f"attempt {attempt} ended before its kill:\n{log.read_text()}"
        os.kill(pid, signal.SIGKILL)
        assert worker.wait() == -signal.SIGKILL, log.read_text()
        kinds.append(kind)
        if kind == "write":
            assert partial_writes(out), f"attempt {attempt}: no half-written temporary file after a kill inside a write"
            mid_write += 1
        if (out / "checkpoint.pt").exists():
            step = load_checkpoint(out / "checkpoint.pt")["step"]  # a whole checkpoint, never a partial one
            assert step >= last_step
            last_step = step
    resumes_from = last_step
    assert worker.run(args + ["--out", out, "--resume"], tmp_path / "final.log") == 0, \
        (tmp_path / "final.log").read_text()
    killed_s = time.monotonic() - began

    assert_same_checkpoint(load_checkpoint(reference / "checkpoint.pt"), load_checkpoint(out / "checkpoint.pt"))
    logged = [line.split(",") for line in (out / "log.csv").read_text().splitlines()[1:]]
    expected = [line.split(",") for line in (reference / "log.csv").read_text().splitlines()[1:]]
    assert [row[:6] for row in logged] == [row[:6] for row in expected]  # every step once, with the same losses
    assert not partial_writes(out) and not (out / ".lock").exists()
    assert mid_write >= 1, "no kill landed inside a checkpoint write"
    print(f"\nkill test: reference run {reference_s:.1f} s; 20 kills + resumes {killed_s:.1f} s; kinds "
          f"{ {k: kinds.count(k) for k in set(kinds)} }; {mid_write} kills left a half-written temp file; "
          f"last kill at checkpoint step {resumes_from}/{total}")


@pytest.mark.parametrize("how", ["torch.save", "os.replace", "unwritable"])
def test_a_failing_checkpoint_write_keeps_the_previous_one_and_stops_with_one_line(tmp_path, data_root, monkeypatch,
                                                                                   how):
    out = tmp_path / "run"
    seen = _fail_checkpoint_write(monkeypatch, how, out / "checkpoint.pt")
    result = CliRunner().invoke(main, ["train", *TINY_ARGS, "--dataset", "mnist", "--data-root", data_root,
                                       "--max-images", 64, "--epochs", 2, "--checkpoint-every", 2, "--out", out])
    line = one_error_line(result)
    assert f"cannot write checkpoint {out / 'checkpoint.pt'}" in line
    if how == "unwritable":
        assert "Permission denied; no checkpoint was written" in line
        assert not (out / "checkpoint.pt").exists()
    else:
        assert "No space left on device; the previous checkpoint is untouched" in line
        assert (out / "checkpoint.pt").read_bytes() == seen["before"]
        assert load_checkpoint(out / "checkpoint.pt")["step"] == 2
    assert not partial_writes(out) and not (out / ".lock").exists()


def test_code_carrying_pickles_are_refused_without_running(tmp_path, code_carrying_files):
    marker, files = code_carrying_files
    for path in files:
        with pytest.raises(CheckpointError, match="not a safe torch file"):
            load_checkpoint(path)
        for command in (["sample", "--checkpoint", path, "--out", tmp_path / "s.png"],
                        ["export", "--checkpoint", path, "--out", tmp_path / "g.onnx"]):
            assert "not a safe torch file" in one_error_line(CliRunner().invoke(main, [str(a) for a in command]))
    assert not marker.exists()


def test_a_truncated_checkpoint_gives_one_clear_error(tmp_path, tiny_checkpoint):
    cut = tmp_path / "cut.pt"
    cut.write_bytes(tiny_checkpoint.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="truncated, corrupt"):
        load_checkpoint(cut)
    assert "truncated, corrupt" in one_error_line(CliRunner().invoke(main, ["sample", "--checkpoint", str(cut)]))


def test_crash_during_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, tiny_images, monkeypatch):
    result = train(tiny_config(epochs=1), tmp_path / "run", images=tiny_images)
    before = result.checkpoint.read_bytes()

    def crash_half_way(obj, file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint_module.torch, "save", crash_half_way)
    with pytest.raises(OSError, match="No space left"):
        train(tiny_config(epochs=2), tmp_path / "run", resume=True, images=tiny_images)
    assert result.checkpoint.read_bytes() == before
    assert load_checkpoint(result.checkpoint)["step"] == 4
    assert sorted(p.name for p in (tmp_path / "run").glob(".checkpoint*")) == []  # no temp file left behind


@pytest.mark.parametrize("content", [b"", b"garbage" * 10, None])
def test_truncated_or_foreign_checkpoints_are_one_clear_error(tmp_path, tiny_images, content):
    result = train(tiny_config(epochs=1), tmp_path / "run", images=tiny_images)
    bad = tmp_path / "bad.pt"
    if content is None:  # truncated real checkpoint
        bad.write_bytes(result.checkpoint.read_bytes()[:2000])
    else:
        bad.write_bytes(content)
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_checkpoint(bad)
    torch.save({"model": "fcgan"}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="is not a gan-models checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")


def test_from_checkpoint_prefers_the_ema(tmp_path, tiny_images):
    result = train(tiny_config(epochs=1, ema_decay=0.5), tmp_path / "run", images=tiny_images)
    state = load_checkpoint(result.checkpoint)
    z = torch.randn(3, 8)
    ema, raw = from_checkpoint(result.checkpoint).generator, from_checkpoint(result.checkpoint, use_ema=False).generator
    assert not ema.training
    assert torch.equal(ema.net[0].weight, state["ema_generator"]["net.0.weight"])
    assert torch.equal(raw.net[0].weight, state["generator"]["net.0.weight"])
    assert not torch.equal(ema(z), raw(z))


# ---- checkpoints written before the reshape (tests/fixtures, by the code as of 2872171) ---------------------------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
V1_RUNS = ["dcgan", "fcgan"]  # DCGAN-28 with EMA and fresh noise; FC-GAN with label smoothing


def _v1_run(name: str) -> tuple[dict, list[dict], torch.Tensor]:
    """The recorded run `name`: its config, its log rows (values as text), and the images it trained on."""
    run = json.loads((FIXTURES / f"{name}-v1-run.json").read_text())
    images = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    assert run["images"] == ("torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8, "
                             "generator=torch.Generator().manual_seed(0))")
    return run["config"], run["log"], images


@pytest.fixture
def recorded_threads():
    """The fixtures were recorded with torch's 2 intra-op threads (this 2-core machine's default): how float32 sums are
    split between threads changes their last bits, so the replays use the same 2 threads whatever the environment says.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def _losses(rows: list[dict]) -> list[tuple]:
    """(step, errD, errG, D_x, D_G_z) per row, parsed from the text written (repr of a float: exact round trip)."""
    return [(int(row["step"]), *(float(row[key]) for key in ("errD", "errG", "D_x", "D_G_z"))) for row in rows]


# The fixtures were recorded on another CPU (AVX-512). Kernels of other ISAs (AVX2, torch's "default" path) add and
# fuse float32 products in another order, so the same config gives the same losses to a few ulps, not bit for bit.
# Measured over the 8 recorded steps: at most 3.0e-7 relative (dcgan) and 1.3e-7 (fcgan) on an AMD EPYC with AVX2,
# and the same under ATEN_CPU_CAPABILITY=default; 8 steps of Adam do not amplify it. 1e-5 (about 80 float32 ulps)
# passes every kernel path and still fails any change of the training maths (those move losses by 1e-3 or more).
ACROSS_MACHINES = 1e-5


def _assert_close_losses(today: list[tuple], recorded: list[tuple]) -> None:
    """Same steps, and every loss and D output within ACROSS_MACHINES (relative) of the recorded one."""
    assert [row[0] for row in today] == [row[0] for row in recorded]
    for got, want in zip(today, recorded, strict=True):
        assert got[1:] == pytest.approx(want[1:], rel=ACROSS_MACHINES, abs=0), f"step {want[0]}"


# Weights after 4 more steps: Adam divides by sqrt(v), so an element whose gradient is near 0 turns an ulp-level
# difference into a step of up to lr. Measured (resumed from the fixture against a whole run here): at most 3.6e-5
# (dcgan, |weights| up to 1.0) and 3.0e-8 (fcgan); 2e-4 is the learning rate of a single Adam step.
WEIGHTS_ACROSS_MACHINES = 2e-4


def _assert_same_state_within(a: dict, b: dict, atol: float = WEIGHTS_ACROSS_MACHINES) -> None:
    """Two state dicts with the same keys and shapes, their float tensors equal within atol (plus ACROSS_MACHINES)."""
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].shape == b[key].shape, key
        if a[key].is_floating_point():
            torch.testing.assert_close(a[key], b[key], rtol=ACROSS_MACHINES, atol=atol, msg=key)
        else:
            assert torch.equal(a[key], b[key]), key


@pytest.mark.numerics
@pytest.mark.parametrize("name", V1_RUNS)
def test_a_checkpoint_written_before_the_reshape_loads_through_the_public_loaders(tmp_path, name, recorded_threads):
    config, log, images = _v1_run(name)
    path = FIXTURES / f"{name}-v1-checkpoint.pt"
    state = load_checkpoint(path)
    assert state["model"] == config["model"] and state["step"] == len(log) == 8  # 64 images / 16 * 2 epochs

    source = from_checkpoint(path)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (source.model, source.dataset, source.sha256) == (name, "mnist", sha256)
    assert not source.generator.training and source.generator.nz == config["nz"]
    preferred = state["ema_generator"] if config["ema_decay"] > 0 else state["generator"]
    assert_same_state(source.generator.state_dict(), preferred)
    assert_same_state(from_checkpoint(path, use_ema=False).generator.state_dict(), state["generator"])
    assert source.generator.sample(3, seed=0).shape == (3, 1, 28, 28)

    # Resuming it with more epochs, from its old config.json ("precision": "fp32", as `train --resume` reads
    # it), continues where an uninterrupted run of today would be: within ACROSS_MACHINES, since the fixture's
    # first 8 steps ran on another CPU.
    whole = train(TrainConfig.from_dict({**config, "epochs": 3}), tmp_path / "whole", images=images)
    resumed = _resume_for_a_third_epoch(path, config, tmp_path / "resumed", images)
    assert resumed.step == whole.step == 12
    _assert_close_losses(_losses(read_log(resumed.out)), _losses(read_log(tmp_path / "whole"))[8:])
    _assert_same_state_within(weights(resumed.checkpoint), weights(whole.checkpoint))
    # Bit for bit against a reference computed here: the same 8 steps run on this machine, then resumed.
    here = train(TrainConfig.from_dict(config), tmp_path / "here", images=images)
    resumed_here = _resume_for_a_third_epoch(here.checkpoint, config, tmp_path / "resumed-here", images)
    assert _losses(read_log(resumed_here.out)) == _losses(read_log(tmp_path / "whole"))[8:]
    assert_same_state(weights(resumed_here.checkpoint), weights(whole.checkpoint))


def _resume_for_a_third_epoch(checkpoint: Path, config: dict, out: Path, images: torch.Tensor):
    """Copy a 2-epoch checkpoint and its v1 config.json into `out`, then `train --resume --epochs 3` it."""
    out.mkdir()
    shutil.copyfile(checkpoint, out / "checkpoint.pt")
    (out / "config.json").write_text(json.dumps(config))
    resumed_config = rundir.resume_config(out, {"epochs": 3})
    assert config["precision"] == "fp32" and resumed_config.compute_dtype == "float32"
    return train(resumed_config, out, resume=True, images=images)


@pytest.mark.numerics
@pytest.mark.parametrize("name", V1_RUNS)
def test_the_same_config_gives_the_recorded_losses_step_for_step(tmp_path, name, recorded_threads):
    config, log, images = _v1_run(name)
    train(TrainConfig.from_dict(config), tmp_path / "today", images=images)
    today, recorded = _losses(read_log(tmp_path / "today")), _losses(log)
    assert [row[0] for row in recorded] == list(range(1, 9))
    _assert_close_losses(today, recorded)  # across machines: recorded on another CPU
    train(TrainConfig.from_dict(config), tmp_path / "again", images=images)
    assert _losses(read_log(tmp_path / "again")) == today  # on one machine, bit for bit: every digit is written
