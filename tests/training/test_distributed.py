"""Data-parallel training: two CPU processes under torchrun (gloo) stay in sync and log once."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).parent


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["unconditional", "conditional"])
def test_two_process_training_keeps_ranks_in_sync(tmp_path, data_root, mode):
    env = {**os.environ, "GAN_MODELS_DATA": str(data_root), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               str(HERE / "ddp_worker.py"), str(tmp_path), mode]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # 512 images split over 2 ranks, 32 per rank per step: 8 steps per epoch, 2 epochs.
    assert "rank 0 of 2: 16 steps" in done.stdout and "rank 1 of 2: 16 steps" in done.stdout
    rank0, rank1 = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key  # averaged gradients keep the replicas identical
    with open(tmp_path / "log.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(r["step"]) for r in rows] == list(range(1, 17))  # rank 0 alone logs
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["step"] == 16 and state["num_images"] == 512
    weight = "body.net.0.weight" if mode == "conditional" else "net.0.weight"
    assert torch.equal(state["generator"][weight], rank0[weight])
    if mode == "conditional":  # the label embeddings are averaged and trained like every other weight
        assert torch.equal(rank0["embed.weight"], rank1["embed.weight"])
        assert state["generator_kwargs"]["classes"] == list("0123456789")


@pytest.mark.slow
def test_torchrun_cli_reports_once(tmp_path, data_root):
    env = {**os.environ, "GAN_MODELS_DATA": str(data_root), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "gan_models.cli", "train", "--ngf", "16", "--ndf", "16", "--max-images", "256",
               "--batch-size", "32", "--epochs", "1",
               "--out", str(tmp_path), "--no-progress"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("done: 4 steps; errD ") == 1  # 256 / (2 * 32) steps, reported by rank 0 alone


def test_each_cuda_process_takes_its_own_gpu(monkeypatch):
    """Under torchrun on a 2-GPU machine, rank 1 must work on GPU 1 before NCCL starts.

    Left on the current device ("cuda" means GPU 0 unless set), every rank uses GPU 0 and NCCL
    fails with "Duplicate GPU detected : rank 1 and rank 0 both on CUDA device ...". No GPU is
    needed here: the CUDA and NCCL calls are recorded instead of made.
    """
    from gan_models.training import distributed

    calls = []
    for name, value in {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(distributed.torch.cuda, "set_device", lambda index: calls.append(("set_device", index)))
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group", lambda backend: calls.append(("init", backend)))
    monkeypatch.setattr(distributed.dist, "get_rank", lambda: 1)
    monkeypatch.setattr(distributed.dist, "get_world_size", lambda: 2)
    assert distributed.init_from_env(torch.device("cuda")) == distributed.ProcessGroup(rank=1, world_size=2)
    assert calls == [("set_device", 1), ("init", "nccl")]
    calls.clear()
    distributed.init_from_env(torch.device("cpu"))  # gloo on CPU: no GPU to pick
    assert calls == [("init", "gloo")]


@pytest.mark.parametrize("barrier_fails", [False, True])
def test_shutdown_waits_for_every_rank_then_destroys_the_group_on_every_path(monkeypatch, barrier_fails):
    """The ordered exit: a barrier (gloo's, with a timeout), then destroy_process_group, even when the barrier fails.

    Without it a rank left gloo's threads to interpreter teardown and now and then aborted ("terminate called
    without an active exception", exit -6); 60 torchrun runs of the three jobs above were clean with it.
    """
    from gan_models.training import distributed

    calls = []

    def barrier(timeout):
        calls.append(("monitored_barrier", timeout))
        if barrier_fails:
            raise RuntimeError("Rank 1 failed to pass monitoredBarrier in 30000 ms")

    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: ("destroy", None) not in calls)
    monkeypatch.setattr(distributed.dist, "get_backend", lambda: "gloo")
    monkeypatch.setattr(distributed.dist, "monitored_barrier", barrier)
    monkeypatch.setattr(distributed.dist, "destroy_process_group", lambda: calls.append(("destroy", None)))
    group = distributed.ProcessGroup(rank=1, world_size=2)
    distributed.shutdown(group)
    distributed.shutdown(group)  # again, as atexit does after train(): nothing left to do
    assert calls == [("monitored_barrier", distributed.SHUTDOWN_TIMEOUT), ("destroy", None)]
    distributed.shutdown(distributed.ProcessGroup())  # a single process has no group to leave
    assert len(calls) == 2
