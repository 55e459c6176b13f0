"""Frechet distance against training time for long runs: measure while they train, then plot.

    python scripts/fd_curve.py watch runs/dcgan-mnist runs/fcgan-mnist --every 600   # beside the trainings
    python scripts/fd_curve.py plot runs/dcgan-mnist=13.4 runs/fcgan-mnist=14.4 --out docs/fd-vs-time.png

`watch` evaluates each run's checkpoint whenever it has moved on, as `gan-models evaluate` does (seed 0,
up to 10,000 images per set, the run's EMA generator), on one thread, and writes the report as
`<run>/fd/<step>.json`, named after the checkpoint's own step; a checkpoint that scores lower than every
earlier one of its run is kept as `<run>/best-checkpoint.pt` (GANs' quality swings as they train: ship the
best with `scripts/ship_generator.py RUN --checkpoint best-checkpoint.pt`). `plot` draws every run's Frechet distance
against its training time (log scale), a panel per model and dataset, a run's goal as a dashed line when given as
RUN=GOAL, and writes the points as JSON beside the PNG. Training time is the seconds spent in training
steps up to that step, from log.csv, as the weight records count it (scripts/ship_generator.py).

Prints: `watch`, a line per measured checkpoint (run, step, Frechet distance) or error; `plot`, the files it wrote.
Writes: `watch`, <run>/fd/<step>.json and <run>/best-checkpoint.pt; `plot`, the PNG given by --out and its
points as JSON beside it (docs/fd-vs-time.png and .json, shown in docs/training.md).
"""
import argparse
import json
import os
import shutil
import time
from pathlib import Path

import torch
from ship_generator import step_seconds

from gan_models.atomic import atomic_write
from gan_models.quality.metrics import evaluate_generator
from gan_models.training.checkpoint import CheckpointError, generator_from_state, load_checkpoint


def measure(run: Path, data_root: str | None) -> Path | None:
    """Evaluate the run's checkpoint into <run>/fd/<step>.json unless that step is measured; returns the file.

    The checkpoint is copied first, so the file measured is the file kept as best-checkpoint.pt when it is the best.
    """
    copy = run / "fd" / "measuring.pt"
    copy.parent.mkdir(exist_ok=True)
    shutil.copyfile(run / "checkpoint.pt", copy)  # the trainer may replace checkpoint.pt meanwhile
    try:
        state = load_checkpoint(copy)
        path = run / "fd" / f"{state['step']}.json"
        if path.exists():
            return None
        best = min((fd for _, _, fd in curve(run)), default=float("inf"))
        report = evaluate_generator(generator_from_state(state), state["dataset"], data_root)
        if report.generated.frechet_distance < best:
            os.replace(copy, run / "best-checkpoint.pt")
        with atomic_write(path) as tmp:
            tmp.write_text(json.dumps(report.to_dict(), indent=2))
        print(f"{run}: step {state['step']}, Frechet distance {report.generated.frechet_distance:.2f}"
              f"{' (the best so far)' if report.generated.frechet_distance < best else ''}", flush=True)
        return path
    except CheckpointError as err:
        print(f"{run}: {err}")
        return None
    finally:
        copy.unlink(missing_ok=True)


def curve(run: Path) -> list[tuple[float, int, float]]:
    """(training seconds, step, Frechet distance) of every measured step of `run`, in step order."""
    seconds = step_seconds(run)
    points = []
    for path in (run / "fd").glob("*.json"):
        step = int(path.stem)
        if step in seconds:
            points.append((seconds[step], step, json.loads(path.read_text())["generated"]["frechet_distance"]))
    return sorted(points, key=lambda point: point[1])


def plot(runs: dict[Path, float | None], out: Path) -> list[str]:
    """A panel per (model, dataset) of its runs' curves (minutes of training vs Frechet distance); the points as JSON.

    A run's panel comes from its config.json ("c" before the model for a conditional run); its goal, when
    given, is drawn dashed in the run's colour. Returns the panels' titles, in drawing order.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    panels: dict[str, list[Path]] = {}
    for run in runs:
        config = json.loads((run / "config.json").read_text())
        title = f"{'c' if config.get('conditional') else ''}{config['model']} {config['dataset']}"
        panels.setdefault(title, []).append(run)
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(5 * columns, 3.8 * rows), squeeze=False)
    points = {}
    for axes, (title, panel_runs) in zip(grid.flat, sorted(panels.items()), strict=False):
        for run in panel_runs:
            points[run.name] = curve(run)
            minutes = [s / 60 for s, _, _ in points[run.name]]
            line, = axes.plot(minutes, [fd for _, _, fd in points[run.name]], marker="o", markersize=3, label=run.name)
            if runs[run] is not None:
                axes.axhline(runs[run], color=line.get_color(), linestyle="--", linewidth=1)
        axes.set(title=title, xlabel="minutes in training steps", ylabel="Frechet distance", yscale="log")
        axes.legend(fontsize=7)
        axes.grid(True, which="both", alpha=0.3)
    for axes in list(grid.flat)[len(panels):]:
        axes.set_visible(False)
    figure.suptitle("Frechet distance during training (dashed: the goal)")
    figure.tight_layout()
    with atomic_write(out) as tmp:
        figure.savefig(tmp, format="png", dpi=90)
    with atomic_write(out.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps({name: [{"seconds": round(s), "step": step, "frechet_distance": round(fd, 3)}
                                          for s, step, fd in run_points] for name, run_points in points.items()},
                                  indent=2) + "\n")
    print(f"wrote {out} and {out.with_suffix('.json')}")
    return sorted(panels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    watch = commands.add_parser("watch", help="Evaluate the runs' checkpoints as they move on.")
    watch.add_argument("runs", nargs="+", type=Path)
    watch.add_argument("--every", type=float, default=600, help="Seconds between looks [default: 600].")
    watch.add_argument("--data-root", default=None, help="Datasets folder [default: $GAN_MODELS_DATA].")
    draw = commands.add_parser("plot", help="Plot the measured curves.")
    draw.add_argument("runs", nargs="+", help="RUN or RUN=GOAL (the goal's Frechet distance, drawn dashed).")
    draw.add_argument("--out", type=Path, default=Path("docs/fd-vs-time.png"))
    args = parser.parse_args()
    if args.command == "plot":
        runs = {}
        for spec in args.runs:
            run, _, goal = spec.partition("=")
            runs[Path(run)] = float(goal) if goal else None
        plot(runs, args.out)
        return
    torch.set_num_threads(1)  # beside trainings that each use one
    seen = {}  # run -> the checkpoint's modification time when last looked at: unchanged, nothing to copy or load
    while True:
        for run in args.runs:
            checkpoint = run / "checkpoint.pt"
            if checkpoint.exists() and seen.get(run) != checkpoint.stat().st_mtime_ns:
                seen[run] = checkpoint.stat().st_mtime_ns
                measure(run, args.data_root)
        time.sleep(args.every)


if __name__ == "__main__":
    main()
