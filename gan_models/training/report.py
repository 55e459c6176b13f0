"""What a person sees of a run while it trains (a progress bar, the step log, the warnings) and once it ends."""
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from gan_models.training.rundir import LOSSES, save_progress_sheet
from gan_models.training.runlog import RunLog


@dataclass
class TrainResult:
    """What a finished run reports: where things are and how it ended."""

    out: Path
    step: int  # steps completed
    checkpoint: Path
    last: dict = field(default_factory=dict)  # the last logged row (errD, errG, D_x, D_G_z, ...)
    diversity: float | None = None  # last epoch's fixed-noise diversity ratio (1 = as diverse as real data)
    warnings: list[str] = field(default_factory=list)
    best: dict | None = None  # with eval_every: {"step", "fd", "kid"} of the best evaluation, the one in best.pt


def format_seconds(seconds: float) -> str:
    """A duration as a person reads it: "45 s", "12 min 5 s", "3 h 20 min"."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class StepReport:
    """The tqdm bar of each epoch, log.csv, losses.png (through RunLog) and progress.png, and the run's warnings.

    The bar is drawn only on a terminal and with `show_bar`; otherwise (--no-progress, output to a file or a
    pipe) each epoch ends with one plain line: epoch, steps, mean losses, images/s and the time left.
    Only the main process of a distributed run reports: with `enabled` False nothing is shown or
    written, though warnings are still collected.

    Args:
        epochs: the run's epochs, for the bar's title.
        show_bar: show tqdm bars on a terminal (config.progress).
        enabled: this process reports (the main rank).
    """

    def __init__(self, epochs: int, show_bar: bool, enabled: bool) -> None:
        self.epochs, self.enabled = epochs, enabled
        self.show_bar = show_bar and sys.stderr.isatty()  # carriage returns would flood a log file
        self.warnings: list[str] = []
        self.out: Path | None = None
        self.log: RunLog | None = None
        self.bar: tqdm | None = None
        self._epoch = self._steps = self._done = 0
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}
        self._started = 0.0

    def open_log(self, out: Path, resume_step: int | None) -> None:
        """Start (or, with `resume_step`, continue) the run's log in `out`."""
        if self.enabled:
            self.out = Path(out)
            self.log = RunLog(self.out, resume_step=resume_step)

    def start_epoch(self, epoch: int, steps: int, done: int) -> None:
        """Show the bar of `epoch` (1-based): `steps` steps, `done` of them already taken."""
        self.bar = tqdm(total=steps, initial=done, desc=f"epoch {epoch}/{self.epochs}",
                        disable=not (self.show_bar and self.enabled), dynamic_ncols=True, leave=True)
        self._epoch, self._steps, self._done = epoch, steps, done
        self._sums, self._counts, self._started = {}, {}, time.perf_counter()

    def step(self, row: dict) -> None:
        """Log a step's row (keys gan_models.training.runlog.FIELDS) and advance the bar."""
        if self.log is None:
            return
        self.log.log(row)
        for name in ("errD", "errG", "D_x", "D_G_z"):
            if math.isfinite(row[name]):  # errG is NaN on steps without a G step
                self._sums[name] = self._sums.get(name, 0.0) + row[name]
                self._counts[name] = self._counts.get(name, 0) + 1
        self._sums["step_s"] = self._sums.get("step_s", 0.0) + 1 / row["images_per_s"]  # seconds per image
        self.bar.set_postfix(errD=f"{row['errD']:.3f}", errG=f"{row['errG']:.3f}", Dx=f"{row['D_x']:.2f}",
                             DGz=f"{row['D_G_z']:.2f}", img_s=f"{row['images_per_s']:.0f}", refresh=False)
        self.bar.update()

    def end_epoch(self) -> None:
        """Close the epoch's bar; without a bar, print the epoch's plain line (`epoch_line`)."""
        self.bar.close()
        self.bar = None
        if self.enabled and not self.show_bar and self._counts:
            tqdm.write(self.epoch_line(), file=sys.stdout)
            sys.stdout.flush()

    def epoch_line(self) -> str:
        """The epoch just trained in one line: its number, steps, mean losses, images/s and the run's time left.

        Images/s is that of the steps themselves (log.csv's); the time left extrapolates this epoch's wall time
        per step, its grids and checkpoint included, over the steps still to come.
        """
        taken = self._counts.get("errD", 0)
        means = {name: self._sums[name] / self._counts[name] for name in self._counts}
        per_step = (time.perf_counter() - self._started) / max(taken, 1)
        left = per_step * self._steps * (self.epochs - self._epoch)
        g = f"{means['errG']:.3f}" if "errG" in means else "-"
        return (f"epoch {self._epoch}/{self.epochs}: {self._done + taken}/{self._steps} steps, "
                f"errD {means['errD']:.3f}, errG {g}, D(x) {means['D_x']:.2f}, D(G(z)) {means['D_G_z']:.2f}, "
                f"{taken / self._sums['step_s']:,.0f} images/s, {format_seconds(left)} left")

    def warn(self, message: str | None) -> None:
        """Keep a warning for the result and print it (above the bar); None is no warning."""
        if message:
            self.warnings.append(message)
            if self.enabled:
                (self.bar.write if self.bar is not None else tqdm.write)(f"warning: {message}")

    def note(self, message: str) -> None:
        """Print one line (above the bar), such as an evaluation's score."""
        if self.enabled:
            (self.bar.write if self.bar is not None else tqdm.write)(message)

    def redraw(self, epochs_done: int, force: bool = False) -> None:
        """Redraw losses.png and progress.png (epochs 1..`epochs_done`), at most every PLOT_INTERVAL_S unless `force`.

        Both grow with the run (the sheet reads every epoch's grid back), so drawing them after each
        short epoch would cost more than the epoch's own steps.
        """
        if self.log is not None and self.log.plot(self.out / LOSSES, force=force) and epochs_done:
            save_progress_sheet(self.out, epochs_done)

    @property
    def last(self) -> dict:
        """The last logged row, {} before any."""
        return self.log.rows[-1] if self.log is not None and self.log.rows else {}

    def close(self) -> None:
        """Close the log's files."""
        if self.log is not None:
            self.log.close()
