"""train --eval-every: FD and KID in log.csv, TensorBoard and the loss figure; best.pt the best row of the log, read
by sample, export and evaluate, and the same after kills and resumes as in an uninterrupted run."""
import csv
import math
import os
import signal

import pytest
import torch

from gan_models.quality.metrics import evaluate_generator
from gan_models.training import runlog
from gan_models.training.checkpoint import generator_from_state, load_checkpoint
from gan_models.training.runlog import STEP_FIELDS, RunLog
from gan_models.training.trainer import Trainer, TrainingInterrupted, train
from tests.helpers import (
    TINY_ARGS,
    assert_same_checkpoint,
    logged_step,
    one_error_line,
    read_log,
    run_cli,
    tiny_config,
    two_colour_class_folders,
    wait_for,
)

EVAL = {"eval_every": 3, "eval_samples": 200, "ema_decay": 0.9}  # 4 steps an epoch on the 64 tiny images


def scored_rows(out) -> list[dict]:
    """The log's evaluated rows as {"step", "fd", "kid", "eval_s"} numbers."""
    with open(out / "log.csv", newline="") as file:
        return [{"step": int(row["step"]), **{k: float(row[k]) for k in ("fd", "kid", "eval_s")}}
                for row in csv.DictReader(file) if row["fd"]]


def untimed_log(out) -> list[dict]:
    """log.csv's rows as written, without the columns that time the run (images_per_s, eval_s)."""
    return [{k: v for k, v in row.items() if k != "eval_s"} for row in read_log(out)]


def best_row(out) -> dict:
    rows = scored_rows(out)
    return min(rows, key=lambda row: row["fd"])  # the first of equal ones, as best.pt keeps it


def test_best_pt_holds_the_generator_of_the_best_row_of_the_log(tmp_path, tiny_images, data_root, monkeypatch):
    written = []

    class Recorder:
        def add_scalar(self, tag, value, step):
            written.append((tag, step, value))

        def close(self):
            pass

    monkeypatch.setattr(runlog, "_tensorboard_writer", lambda folder: Recorder())
    trainer = Trainer(tiny_config(epochs=3, data_root=str(data_root), **EVAL), tmp_path, images=tiny_images)
    result = trainer.fit()

    rows = scored_rows(tmp_path)
    assert [row["step"] for row in rows] == [3, 6, 9, 12]  # every 3 steps; 12 is also the last
    columns = len(runlog.FIELDS) - 1  # read_log leaves out images/s
    assert all(len(row) == columns and (row["fd"] == "") == (int(row["step"]) % 3 != 0) for row in read_log(tmp_path))
    best = best_row(tmp_path)
    state = load_checkpoint(tmp_path / "best.pt")
    assert state["step"] == best["step"] == result.best["step"] and state["num_images"] == 64
    assert state["evaluation"] == {"step": best["step"], "fd": best["fd"], "kid": best["kid"], "samples": 200,
                                   "seed": 0}
    assert load_checkpoint(tmp_path / "checkpoint.pt")["best"] == result.best == {
        "step": best["step"], "fd": best["fd"], "kid": best["kid"]}
    # Its EMA generator is the one scored: evaluate's FD on the same n and seed is the logged one.
    report = evaluate_generator(generator_from_state(state), "mnist", data_root, n_samples=200, distribution=False)
    assert math.isclose(report.generated.frechet_distance, best["fd"], rel_tol=1e-9)
    raw = evaluate_generator(generator_from_state(state, use_ema=False), "mnist", data_root, n_samples=200,
                             distribution=False)
    assert abs(raw.generated.frechet_distance - best["fd"]) > 1e-3
    # The cost: the seconds logged are the seconds counted, a share of the steps' time.
    assert math.isclose(trainer.eval_seconds, sum(row["eval_s"] for row in rows), rel_tol=1e-12)
    assert 0 < trainer.eval_seconds and 0 < trainer.step_seconds
    assert [(tag, step) for tag, step, _ in written if tag in ("fd", "kid", "eval_s")] == [
        (tag, row["step"]) for row in rows for tag in ("fd", "kid", "eval_s")]
    assert [value for tag, _, value in written if tag == "fd"] == [row["fd"] for row in rows]


def test_sample_and_evaluate_read_best_pt(tmp_path, tiny_images, data_root):
    train(tiny_config(epochs=1, data_root=str(data_root), **EVAL), tmp_path / "run", images=tiny_images)
    best = tmp_path / "run" / "best.pt"
    sampled = run_cli("sample", "--checkpoint", best, "-n", 4, "--out", tmp_path / "grid.png")
    assert sampled.exit_code == 0, sampled.output
    assert (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    evaluated = run_cli("evaluate", "--checkpoint", best, "--data-root", data_root, "--samples", 200,
                        "--resamples", 10)
    assert evaluated.exit_code == 0, evaluated.output
    fd_line = next(line for line in evaluated.output.splitlines() if line.startswith("Frechet distance"))
    assert fd_line.split()[6] == f"{best_row(tmp_path / 'run')['fd']:.3f}"  # the logged FD, as evaluate prints it


@pytest.mark.slow
def test_export_reads_best_pt(tmp_path, tiny_images, data_root):
    train(tiny_config(epochs=1, data_root=str(data_root), **EVAL), tmp_path / "run", images=tiny_images)
    exported = run_cli("export", "--checkpoint", tmp_path / "run" / "best.pt", "--out", tmp_path / "g.onnx")
    assert exported.exit_code == 0, exported.output
    assert "validation passed" in exported.output


def test_interrupted_then_resumed_keeps_the_uninterrupted_best_pt(tmp_path, tiny_images, data_root, monkeypatch):
    config = tiny_config(epochs=3, data_root=str(data_root), **EVAL)
    train(config, tmp_path / "whole", images=tiny_images)
    trainer = Trainer(config, tmp_path / "split", images=tiny_images)
    original_step = trainer.train_step

    def step_then_signal(*args):
        row = original_step(*args)
        if trainer.step == 7:  # after the evaluation of step 6, before the one of step 9
            trainer.stop.received = signal.SIGINT
        return row

    monkeypatch.setattr(trainer, "train_step", step_then_signal)
    with pytest.raises(TrainingInterrupted):
        trainer.fit()
    assert trainer.best["step"] in (3, 6)
    assert load_checkpoint(tmp_path / "split" / "checkpoint.pt")["best"] == trainer.best
    train(config, tmp_path / "split", resume=True, images=tiny_images)
    whole, split = (load_checkpoint(tmp_path / run / "best.pt") for run in ("whole", "split"))
    assert_same_checkpoint(whole, split)
    assert untimed_log(tmp_path / "split") == untimed_log(tmp_path / "whole")


def test_sigkill_mid_run_then_resume_ends_with_the_uninterrupted_best_pt(tmp_path, worker, data_root):
    """Kill a run right after it wrote a new best.pt mid-epoch (newer than its checkpoint), and half-way through
    writing one; each resumed run replays from the checkpoint, and the last ends with the uninterrupted run's
    best.pt, bit for bit, whose step and score are the best row of its log."""
    args = ["train", *TINY_ARGS, "--dataset", "mnist", "--data-root", data_root, "--max-images", 160, "--epochs", 4,
            "--eval-every", 3, "--eval-samples", 200, "--ema-decay", 0.9]  # 10 steps an epoch, checkpointed at its end
    reference = tmp_path / "reference"
    assert worker.run(args + ["--out", reference], tmp_path / "reference.log") == 0
    # The steps that set a new best, from the reference's log (the run is deterministic, so the killed one's too).
    rows, record, new_bests = scored_rows(reference), math.inf, []
    for row in rows:
        if row["fd"] < record:
            record = row["fd"]
            new_bests.append(row["step"])
    mid_epoch = [step for step in new_bests if step > 10 and step % 10]
    assert len(mid_epoch) >= 2, f"new bests at {new_bests}: too few after the first checkpoint for this test"

    out = tmp_path / "killed"
    # Kill 1: once the row of a new-best step is logged (its best.pt is written; the checkpoint is older).
    log = tmp_path / "kill1.log"
    pid = worker.start(args + ["--out", out], log)
    wait_for(lambda: logged_step(out) >= mid_epoch[0], log)
    os.kill(pid, signal.SIGKILL)
    assert worker.wait() == -signal.SIGKILL
    killed_at = load_checkpoint(out / "best.pt")["step"]
    assert killed_at >= mid_epoch[0] > load_checkpoint(out / "checkpoint.pt")["step"]
    # Kill 2: half-way through writing the best.pt of a later new best (the first torch.save at that step).
    log = tmp_path / "kill2.log"
    pid = worker.start(args + ["--out", out, "--resume"], log, stall_write_at_step=mid_epoch[-1])
    wait_for(lambda: log.exists() and "stalled writing step" in log.read_text(), log)
    assert not worker.finished()
    os.kill(pid, signal.SIGKILL)
    assert worker.wait() == -signal.SIGKILL
    assert list(out.glob(".best.pt.*.tmp")), "no half-written best.pt after a kill inside its write"
    load_checkpoint(out / "best.pt")  # the previous one, whole
    assert worker.run(args + ["--out", out, "--resume"], tmp_path / "final.log") == 0, \
        (tmp_path / "final.log").read_text()

    assert_same_checkpoint(load_checkpoint(reference / "best.pt"), load_checkpoint(out / "best.pt"))
    assert_same_checkpoint(load_checkpoint(reference / "checkpoint.pt"), load_checkpoint(out / "checkpoint.pt"))
    best, state = best_row(out), load_checkpoint(out / "best.pt")
    assert (state["step"], state["evaluation"]["fd"], state["evaluation"]["kid"]) == (
        best["step"], best["fd"], best["kid"]) == (new_bests[-1], record, best["kid"])
    assert untimed_log(out) == untimed_log(reference)
    assert not list(out.glob(".*.tmp"))


def test_a_dataset_without_a_classifier_is_refused_in_one_line_before_training(tmp_path):
    line = one_error_line(run_cli("train", *TINY_ARGS, "--dataset", "celeba", "--data-root", tmp_path / "absent",
                                  "--eval-every", 10, "--out", tmp_path / "run"))
    assert line == ("Error: --eval-every measures with the dataset's shipped classifier, and celeba has none (they "
                    "ship for emoji, fashion-mnist, mnist; a folder is measured in general features); leave "
                    "--eval-every out")
    assert not (tmp_path / "run").exists()


def test_a_folder_run_is_scored_in_general_features_as_evaluate_scores_it(tmp_path):
    folder = two_colour_class_folders(tmp_path / "images", per_class=16)  # 32 images, 6 held out
    config = tiny_config(dataset="folder", data_root=str(folder), channels=1, epochs=2, eval_every=1, eval_samples=50,
                         ema_decay=0.9)
    result = train(config, tmp_path / "run")

    rows = scored_rows(tmp_path / "run")
    assert [row["step"] for row in rows] == [1, 2, 3, 4]  # 2 steps an epoch at batch 16
    state = load_checkpoint(tmp_path / "run" / "best.pt")
    assert state["evaluation"]["samples"] == 6  # capped at the held-out fifth
    assert result.best["step"] == best_row(tmp_path / "run")["step"] == state["step"]
    report = evaluate_generator(generator_from_state(state), "folder", folder, n_samples=50, resamples=2)
    assert report.features == "general" and report.samples == 6
    assert math.isclose(report.generated_distribution.frechet_distance, state["evaluation"]["fd"], rel_tol=1e-9)
    assert len({row["fd"] for row in rows}) == 4  # each step's generator scored afresh


def test_eval_samples_without_eval_every_is_refused(tmp_path):
    line = one_error_line(run_cli("train", *TINY_ARGS, "--eval-samples", 500, "--out", tmp_path / "run"))
    assert line == ("Error: eval_samples=500 applies with --eval-every only, which is 0 (never); give --eval-every N, "
                    "or leave --eval-samples out")


def test_resume_refuses_another_eval_every(tmp_path, tiny_images, data_root):
    config = tiny_config(epochs=1, data_root=str(data_root), **EVAL)
    train(config, tmp_path, images=tiny_images)
    with pytest.raises(Exception, match=r"eval_every: 3 -> 4"):
        train(tiny_config(epochs=2, data_root=str(data_root), **{**EVAL, "eval_every": 4}), tmp_path, resume=True,
              images=tiny_images)


def test_a_log_written_before_the_evaluation_columns_resumes_with_them_empty(tmp_path):
    rows = ["1,1,0.70,0.71,0.50,0.49,100.0", "2,1,0.69,0.72,0.51,0.48,100.0", "3,1,0.68,0.73,0.52,0.47,100.0"]
    (tmp_path / "log.csv").write_text("\n".join([",".join(STEP_FIELDS), *rows]) + "\n")
    log = RunLog(tmp_path, resume_step=2)
    log.log({"step": 3, "epoch": 1, "errD": 0.5, "errG": 0.6, "D_x": 0.5, "D_G_z": 0.5, "images_per_s": 9.0,
             "fd": 12.5, "kid": 0.25, "eval_s": 1.5})
    log.close()
    assert [(row["step"], row["fd"]) for row in log.rows] == [(1, None), (2, None), (3, 12.5)]
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert lines[0] == "step,epoch,errD,errG,D_x,D_G_z,images_per_s,fd,kid,eval_s,ada_p,ada_r_t,r1"
    assert lines[1].endswith("100.0,,,,,,") and lines[3] == "3,1,0.5,0.6,0.5,0.5,9.0,12.5,0.25,1.5,,,"
    assert [row["fd"] for row in RunLog(tmp_path, resume_step=3).rows] == [None, None, 12.5]  # and reads back


def test_the_loss_figure_gets_an_fd_panel_marking_the_best(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(runlog.Figure, "savefig", lambda fig, path, **kwargs: drawn.append(fig))
    log = RunLog(tmp_path)
    for step in range(1, 7):
        scores = {"fd": {2: 30.0, 4: 20.0, 6: 25.0}[step], "kid": 0.1, "eval_s": 1.0} if step % 2 == 0 else {}
        log.log({"step": step, "epoch": 1, "errD": 1.3, "errG": 0.7, "D_x": 0.5, "D_G_z": 0.5, "images_per_s": 1.0,
                 **scores})
    log.plot(tmp_path / "losses.png", force=True)
    log.close()
    losses, fd = drawn[0].axes
    curve, best = fd.get_lines()
    assert list(curve.get_xdata()) == [2, 4, 6] and list(curve.get_ydata()) == [30.0, 20.0, 25.0]
    assert (list(best.get_xdata()), list(best.get_ydata())) == ([4], [20.0])
    assert best.get_label() == "best.pt: 20.00 at step 4"
    assert len(losses.get_lines()) == 2  # D and G loss, as without evaluations


def test_a_run_without_eval_every_loads_no_test_split_and_draws_one_panel(tmp_path, tiny_images, monkeypatch):
    monkeypatch.setattr("gan_models.training.evaluation.load_labelled_images",
                        lambda *args, **kwargs: pytest.fail("the test split was loaded"))
    drawn = []
    monkeypatch.setattr(runlog.Figure, "savefig", lambda fig, path, **kwargs: drawn.append(fig))
    result = train(tiny_config(epochs=1), tmp_path, images=tiny_images)
    assert result.best is None and not (tmp_path / "best.pt").exists()
    assert load_checkpoint(result.checkpoint)["best"] is None
    assert len(drawn[-1].axes) == 1 and torch.isfinite(torch.tensor(result.last["errD"]))
