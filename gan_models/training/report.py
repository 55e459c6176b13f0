"""What a person sees of a run while it trains (a progress bar, the step log, the warnings) and once it ends."""
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


class StepReport:
    """The tqdm bar of each epoch, log.csv, losses.png (through RunLog) and progress.png, and the run's warnings.

    Only the main process of a distributed run reports: with `enabled` False nothing is shown or
    written, though warnings are still collected.

    Args:
        epochs: the run's epochs, for the bar's title.
        show_bar: show tqdm bars (config.progress).
        enabled: this process reports (the main rank).
    """

    def __init__(self, epochs: int, show_bar: bool, enabled: bool) -> None:
        self.epochs, self.show_bar, self.enabled = epochs, show_bar, enabled
        self.warnings: list[str] = []
        self.out: Path | None = None
        self.log: RunLog | None = None
        self.bar: tqdm | None = None

    def open_log(self, out: Path, resume_step: int | None) -> None:
        """Start (or, with `resume_step`, continue) the run's log in `out`."""
        if self.enabled:
            self.out = Path(out)
            self.log = RunLog(self.out, resume_step=resume_step)

    def start_epoch(self, epoch: int, steps: int, done: int) -> None:
        """Show the bar of `epoch` (1-based): `steps` steps, `done` of them already taken."""
        self.bar = tqdm(total=steps, initial=done, desc=f"epoch {epoch}/{self.epochs}",
                        disable=not (self.show_bar and self.enabled), dynamic_ncols=True, leave=True)

    def step(self, row: dict) -> None:
        """Log a step's row (keys gan_models.training.runlog.FIELDS) and advance the bar."""
        if self.log is None:
            return
        self.log.log(row)
        self.bar.set_postfix(errD=f"{row['errD']:.3f}", errG=f"{row['errG']:.3f}", Dx=f"{row['D_x']:.2f}",
                             DGz=f"{row['D_G_z']:.2f}", img_s=f"{row['images_per_s']:.0f}", refresh=False)
        self.bar.update()

    def end_epoch(self) -> None:
        """Close the epoch's bar."""
        self.bar.close()
        self.bar = None

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
