"""Frechet distance and KID against training time for long runs, plotted from the runs' own evaluations.

    gan-models train --model dcgan --dataset mnist --out runs/dcgan-mnist --eval-every 62   # FD into log.csv
    python scripts/fd_curve.py plot runs/dcgan-mnist=13.4 runs/fcgan-mnist=14.4 --out docs/fd-vs-time.png

`gan-models train --eval-every N` scores the run's generator every N steps into log.csv's fd column and
keeps the best as <run>/best.pt (docs/training.md), which this script's `watch` did from another process
before. `plot` draws every run's Frechet distance and, below it, its KID against its training time (log
scale), a column per model and dataset, a run's goal as a dashed line on its FD when given as RUN=GOAL, and
writes the points as JSON beside the PNG. `--kept OLD.json` draws again the curves of a points JSON it wrote
before, for runs whose folders are gone, beside the run folders given (all of one model and dataset).
Training time is the seconds spent in training steps up to that step, from log.csv, as the weight records
count it (scripts/ship_generator.py); `--x steps` plots against the step instead, for runs that shared the CPU.

Prints: the files it wrote. Writes: the PNG given by --out and its points as JSON beside it
(docs/fd-vs-time.png and .json, shown in docs/training.md).
"""
import argparse
import csv
import json
from pathlib import Path

from ship_generator import step_seconds

from gan_models.atomic import atomic_write


def curve(run: Path) -> list[tuple[float, int, float, float | None]]:
    """(training seconds, step, Frechet distance, KID) of every evaluated step of `run` (log.csv's fd and kid; KID
    None in logs from before it was measured), in step order."""
    seconds = step_seconds(run)
    with open(run / "log.csv", newline="") as file:
        return [(seconds[int(row["step"])], int(row["step"]), float(row["fd"]),
                 float(row["kid"]) if row.get("kid") else None)
                for row in csv.DictReader(file) if row.get("fd")]


X_LABELS = {"minutes": "minutes in training steps", "steps": "training steps"}


def x_values(points: list[tuple[float, int, float, float | None]], x_axis: str) -> list[float]:
    """The x coordinate of each of `curve`'s points: its minutes in training steps, or its step (`x_axis` "steps",
    for runs that shared the CPU, whose minutes do not compare)."""
    return [seconds / 60 if x_axis == "minutes" else step for seconds, step, *_ in points]


def kept_curves(points_json: Path) -> dict[str, list[tuple[float, int, float, float | None]]]:
    """The curves of a points JSON that `plot` wrote, by run name, as `curve` gives them."""
    return {name: [(point["seconds"], point["step"], point["frechet_distance"], point["kid"]) for point in points]
            for name, points in json.loads(points_json.read_text()).items()}


def plot(runs: dict[Path, float | None], out: Path, x_axis: str = "minutes",
         kept: dict[str, list[tuple[float, int, float, float | None]]] | None = None) -> list[str]:
    """A column per (model, dataset) of its runs' curves (Frechet distance against `x_axis`, see x_values, and
    KID below); the points as JSON.

    A run's column comes from its config.json ("c" before the model for a conditional run); its goal, when
    given, is drawn dashed in the run's colour on the FD panel. `kept` curves (`kept_curves`: runs whose
    folders are gone) are drawn first, in the one column the runs make, except those of a run given again.
    Returns the columns' titles, in drawing order.

    Raises:
        ValueError: `kept` is given with runs of more than one model and dataset.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    panels: dict[str, list[Path]] = {}
    for run in runs:
        config = json.loads((run / "config.json").read_text())
        title = f"{'c' if config.get('conditional') else ''}{config['model']} {config['dataset']}"
        panels.setdefault(title, []).append(run)
    kept = {name: curve_points for name, curve_points in (kept or {}).items()
            if name not in {run.name for run in runs}}
    if kept and len(panels) != 1:
        raise ValueError(f"--kept curves join the column of the runs given, which make {len(panels)} columns "
                         f"({', '.join(sorted(panels))}); give runs of one model and dataset")
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure, grid = plt.subplots(2 * rows, columns, figsize=(5 * columns, 6.6 * rows), squeeze=False)
    pairs = [(grid[2 * (k // columns), k % columns], grid[2 * (k // columns) + 1, k % columns])
             for k in range(rows * columns)]
    points = {}
    for (fd_axes, kid_axes), (title, panel_runs) in zip(pairs, sorted(panels.items()), strict=False):
        curves = [*((name, curve_points, None) for name, curve_points in kept.items()),
                  *((run.name, curve(run), runs[run]) for run in panel_runs)]
        for name, curve_points, goal in curves:
            points[name] = curve_points
            xs = x_values(curve_points, x_axis)
            line, = fd_axes.plot(xs, [fd for _, _, fd, _ in curve_points], marker="o", markersize=3, label=name)
            kids = [(x, kid) for x, (*_, kid) in zip(xs, curve_points, strict=True) if kid is not None]
            kid_axes.plot([x for x, _ in kids], [kid for _, kid in kids], marker="o", markersize=3,
                          color=line.get_color(), label=name)
            if goal is not None:
                fd_axes.axhline(goal, color=line.get_color(), linestyle="--", linewidth=1)
        fd_axes.set(title=title, ylabel="Frechet distance", yscale="log")
        kid_axes.set(xlabel=X_LABELS[x_axis], ylabel="KID", yscale="log")
        for axes in (fd_axes, kid_axes):
            axes.legend(fontsize=7)
            axes.grid(True, which="both", alpha=0.3)
    for fd_axes, kid_axes in pairs[len(panels):]:
        fd_axes.set_visible(False)
        kid_axes.set_visible(False)
    figure.suptitle("Frechet distance and KID during training\n(dashed: the FD goal)")
    figure.tight_layout()
    with atomic_write(out) as tmp:
        figure.savefig(tmp, format="png", dpi=90)
    with atomic_write(out.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps({name: [{"seconds": round(s), "step": step, "frechet_distance": round(fd, 3),
                                           "kid": None if kid is None else round(kid, 3)}
                                          for s, step, fd, kid in run_points] for name, run_points in points.items()},
                                  indent=2) + "\n")
    print(f"wrote {out} and {out.with_suffix('.json')}")
    return sorted(panels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    draw = commands.add_parser("plot", help="Plot the runs' evaluated Frechet distances and KIDs.")
    draw.add_argument("runs", nargs="+", help="RUN or RUN=GOAL (the goal's Frechet distance, drawn dashed).")
    draw.add_argument("--out", type=Path, default=Path("docs/fd-vs-time.png"))
    draw.add_argument("--x", choices=sorted(X_LABELS), default="minutes",
                      help="the x axis: minutes in training steps, or steps for runs that shared the CPU")
    draw.add_argument("--kept", type=Path, default=None,
                      help="a points JSON this script wrote before: its curves are drawn again, for runs whose "
                           "folders are gone (a run given again is drawn from its folder)")
    args = parser.parse_args()
    runs = {}
    for spec in args.runs:
        run, _, goal = spec.partition("=")
        runs[Path(run)] = float(goal) if goal else None
    plot(runs, args.out, args.x, kept_curves(args.kept) if args.kept else None)


if __name__ == "__main__":
    main()
