"""What a training run writes for people: a per-step CSV log, a loss-curve PNG, TensorBoard.

The CSV (`log.csv`) has one row per step: step, epoch, errD, errG, D(x), D(G(z)), images/s, then
fd, kid and eval_s (the seconds the evaluation took) on the steps `--eval-every` evaluates, empty on
the others and in logs written before those columns existed. Then ada_p and ada_r_t (with --ada: the
augmentation probability after the step and the r_t of the last adjustment, empty before the first)
and r1 (with --r1: the R1 term added to D's loss, on the steps it is computed), empty likewise. The
images/s time the step itself
(fetching its batch and the D and G updates), not the logging, grids, evaluations and checkpoints
around it, so they measure training speed however slow the disk. On resume, rows
past the checkpoint's step (written before a crash) are dropped, so the log always matches the
weights. So are rows that do not parse, such as a line torn by a kill or a power cut, with a
warning: a damaged log must not stop a run from resuming. The loss curve is redrawn at most every
`PLOT_INTERVAL_S` seconds (and at the end), so runs with short epochs spend their time training
(drawing it takes about as long as 20 FC-GAN steps).
TensorBoard scalars are written when the `tensorboard` package is installed. With evaluations, the
loss figure gets a second panel: FD against the step.
"""
import csv
import time
import warnings
from pathlib import Path

from matplotlib.figure import Figure  # the object API: no pyplot state, no GUI backend

from gan_models.atomic import atomic_write
from gan_models.training.rundir import LOG, TENSORBOARD

STEP_FIELDS = ("step", "epoch", "errD", "errG", "D_x", "D_G_z", "images_per_s")
EVAL_FIELDS = ("fd", "kid", "eval_s")  # None (an empty cell) on the steps not evaluated
REGULARISER_FIELDS = ("ada_p", "ada_r_t", "r1")  # None without --ada (--r1), and r1 on the steps without R1
OPTIONAL_FIELDS = EVAL_FIELDS + REGULARISER_FIELDS
FIELDS = STEP_FIELDS + OPTIONAL_FIELDS
PLOT_INTERVAL_S = 30.0


def _tensorboard_writer(folder: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # optional extra: gan-models[tensorboard]
        return None
    return SummaryWriter(str(folder))


class RunLog:
    """Appends step rows to `<out>/log.csv`, redraws `<out>/losses.png`, mirrors to TensorBoard.

    Args:
        out: the run folder.
        resume_step: keep only rows with step <= this (None: start a new log).
    """

    def __init__(self, out: Path, resume_step: int | None = None) -> None:
        self.path = out / LOG
        self.rows: list[dict] = []
        if resume_step is not None and self.path.exists():
            self.rows = [row for row in self._read() if row["step"] <= resume_step]
        self._rewrite()
        self.file = open(self.path, "a", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=FIELDS)
        self.tensorboard = _tensorboard_writer(out / TENSORBOARD)
        self.last_plot = time.monotonic()  # the first drawing comes PLOT_INTERVAL_S in (or at the end)

    def _read(self) -> list[dict]:
        """The rows of the existing log that parse; warns once, naming the file, if any do not."""
        with open(self.path, newline="", errors="replace") as file:
            lines = file.readlines()
        # Every row is written with its line end, so a last line without one was cut short, even if
        # what is left of it parses (a number missing its last digits).
        complete = lines if not lines or lines[-1].endswith(("\r", "\n")) else lines[:-1]
        # QUOTE_NONE: one row per line, so a stray quote in a damaged line cannot swallow the lines after it.
        rows = [self._parse(row) for row in csv.DictReader(complete, quoting=csv.QUOTE_NONE)]
        parsed = [row for row in rows if row is not None]
        dropped = len(lines) - len(complete) + len(rows) - len(parsed)
        if dropped:
            warnings.warn(f"{self.path}: dropped {dropped} malformed row(s) (cut short by a crash, or damaged)",
                          stacklevel=3)
        return parsed

    @staticmethod
    def _parse(row: dict) -> dict | None:
        """A row with its numbers parsed, or None if a field is missing, extra or not a number.

        The optional fields (evaluation, ADA, R1) may be empty, or absent from the header of an older log: None then.
        """
        if None in row or None in row.values():  # DictReader's marks for extra and missing fields
            return None
        try:
            parsed = {k: (int(row[k]) if k in ("step", "epoch") else float(row[k])) for k in STEP_FIELDS}
            return {**parsed, **{k: float(row[k]) if row.get(k) else None for k in OPTIONAL_FIELDS}}
        except (KeyError, ValueError):
            return None

    def _rewrite(self) -> None:
        with atomic_write(self.path) as tmp, open(tmp, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(self.rows)

    def log(self, row: dict) -> None:
        """Append one step's row (keys STEP_FIELDS, and those OPTIONAL_FIELDS the step has)."""
        row = {**dict.fromkeys(OPTIONAL_FIELDS), **row}
        self.rows.append(row)
        self.writer.writerow(row)
        self.file.flush()
        if self.tensorboard is not None:
            for key in ("errD", "errG", "D_x", "D_G_z", "images_per_s", *OPTIONAL_FIELDS):
                if row[key] is not None:
                    self.tensorboard.add_scalar(key, row[key], row["step"])

    def plot(self, path: Path, force: bool = False) -> bool:
        """Draw errD and errG against the step into a PNG (smoothed over ~1% of the run), and below them FD when the
        run evaluates; returns whether it drew.

        Skipped when the last drawing (or the log's start) is under PLOT_INTERVAL_S seconds old, unless `force`.
        """
        if not force and time.monotonic() - self.last_plot < PLOT_INTERVAL_S:
            return False
        self.last_plot = time.monotonic()
        scored = [r for r in self.rows if r["fd"] is not None]
        fig = Figure(figsize=(8, 7 if scored else 4))
        ax = fig.add_subplot(2, 1, 1) if scored else fig.add_subplot()
        for key, label in (("errD", "D loss"), ("errG", "G loss")):
            # errG is NaN on D-only steps (n_critic > 1): a NaN in every window would blank the whole curve.
            rows = [r for r in self.rows if r[key] == r[key]]
            steps, values = [r["step"] for r in rows], [r[key] for r in rows]
            width = max(1, len(steps) // 100)
            smooth = [sum(values[max(0, i - width + 1):i + 1]) / len(values[max(0, i - width + 1):i + 1])
                      for i in range(len(values))]
            ax.plot(steps, smooth, label=label)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.legend()
        ax.grid(alpha=0.3)
        if scored:
            fd_ax = fig.add_subplot(2, 1, 2, sharex=ax)
            fd_ax.plot([r["step"] for r in scored], [r["fd"] for r in scored], marker="o", markersize=3)
            best = min(scored, key=lambda r: r["fd"])
            fd_ax.plot([best["step"]], [best["fd"]], marker="*", markersize=12, linestyle="",
                       label=f"best.pt: {best['fd']:.2f} at step {best['step']}")
            fd_ax.set_xlabel("step")
            fd_ax.set_ylabel("Frechet distance")
            fd_ax.legend()
            fd_ax.grid(alpha=0.3)
        fig.tight_layout()
        with atomic_write(path) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
        return True

    def close(self) -> None:
        """Flush and close the files."""
        self.file.close()
        if self.tensorboard is not None:
            self.tensorboard.close()
