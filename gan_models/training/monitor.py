"""Signs that GAN training has gone wrong, turned into messages a person can act on.

- Non-finite losses, and non-finite weights before a checkpoint: the trainer stops (see `NonFiniteLossError`).
- Discriminator collapse: over the last `window` steps D's loss averages below `d_floor` while
  G's average is at least `g_rise` times its (positive) average in the window before. For the vanilla and
  LSGAN losses this is the "one loss goes to 0 while the other climbs" failure; a Wasserstein critic's
  loss is below 0 by design, so the trainer does not check it.
- Mode collapse: the diversity ratio, mean pairwise L2 distance between fixed-noise samples
  divided by the same for a batch of real images of the same size. Real data scores 1; samples
  that all look alike score near 0; a trained FC-GAN on MNIST scores 0.35-0.45, since its digits are
  smoother than real ones. Below `min_diversity` (0.2) after `warmup_steps` (1,000; samples
  of a barely trained G are blurry and alike), we warn. A conditional run is judged class by class
  (the grid's row of each class against the real images of that class), and by its worst class: a
  G that ignores z draws one image per class, which the ratio over all classes would hide.
"""
from collections import deque

import torch


class NonFiniteLossError(RuntimeError):
    """A loss or, after an update, a weight became NaN or infinite; training stopped without saving it."""


def non_finite(modules: dict[str, torch.nn.Module | None]) -> list[str]:
    """The names of the modules (None: skipped) holding a NaN or inf in a floating parameter or buffer.

    The trainer checks before each checkpoint: a loss can stay finite while an update makes the
    weights non-finite (a huge learning rate), and such a checkpoint would become the "last good"
    one that every --resume starts from.
    """
    return [name for name, module in modules.items() if module is not None and not all(
        torch.isfinite(t).all() for t in module.state_dict().values() if t.is_floating_point())]


def diversity(images: torch.Tensor) -> float:
    """Mean pairwise L2 distance between images (N, C, H, W), N >= 2."""
    flat = images.detach().flatten(1).float()
    n = flat.shape[0]
    distances = torch.cdist(flat, flat)
    return (distances.sum() / (n * (n - 1))).item()


class HealthMonitor:
    """Watches per-step losses and per-epoch samples; returns warning strings (or None)."""

    def __init__(self, window: int = 50, d_floor: float = 0.05, g_rise: float = 2.0, min_diversity: float = 0.2,
                 warmup_steps: int = 1000) -> None:
        self.window, self.d_floor, self.g_rise, self.min_diversity = window, d_floor, g_rise, min_diversity
        self.warmup_steps = warmup_steps
        self.d_losses: deque[float] = deque(maxlen=window)
        self.g_losses: deque[float] = deque(maxlen=2 * window)
        self.warned_collapse = False

    def state_dict(self) -> dict:
        """The loss windows and whether the collapse warning was given: what a resumed run needs to carry on."""
        return {"d_losses": list(self.d_losses), "g_losses": list(self.g_losses),
                "warned_collapse": self.warned_collapse}

    def load_state_dict(self, state: dict) -> None:
        """Continue from `state_dict()`'s output, so a resumed run warns exactly when an uninterrupted one would."""
        self.d_losses.clear(), self.g_losses.clear()
        self.d_losses.extend(state["d_losses"])
        self.g_losses.extend(state["g_losses"])
        self.warned_collapse = state["warned_collapse"]

    def check_losses(self, err_d: float, err_g: float) -> str | None:
        """Record one step's losses; a warning the first time D collapses while G's loss climbs.

        Steps without a G step (n_critic > 1) log errG as NaN; they are not recorded.
        """
        if err_g != err_g:
            return None
        self.d_losses.append(err_d)
        self.g_losses.append(err_g)
        if self.warned_collapse or len(self.g_losses) < 2 * self.window:
            return None
        d_mean = sum(self.d_losses) / self.window
        g_before = sum(list(self.g_losses)[:self.window]) / self.window
        g_now = sum(list(self.g_losses)[self.window:]) / self.window
        # A ratio says "rose" only for positive losses: from -0.5 to 0.02 is not a 2x climb.
        if d_mean < self.d_floor and g_before > 0 and g_now >= self.g_rise * g_before:
            self.warned_collapse = True
            return (f"discriminator collapse: D loss averages {d_mean:.4f} over the last {self.window} steps "
                    f"while G loss rose from {g_before:.3f} to {g_now:.3f}; try a lower lr_d, label smoothing or "
                    "another loss")
        return None

    def check_diversity(self, samples: torch.Tensor, real: torch.Tensor, step: int,
                        sample_labels: torch.Tensor | None = None, real_labels: torch.Tensor | None = None,
                        classes: tuple[str, ...] = ()) -> tuple[float, str | None]:
        """Diversity ratio of samples against real images, and a mode-collapse warning when it is too low.

        With labels (int64 (N,) for each set, and the class names), the ratio is the lowest over the
        classes with at least 2 images in both sets, and the warning names that class.
        """
        if sample_labels is None:
            ratio, what = diversity(samples) / max(diversity(real), 1e-8), "fixed-noise samples are"
        else:
            ratios = {c: diversity(samples[sample_labels == c]) / max(diversity(real[real_labels == c]), 1e-8)
                      for c in sample_labels.unique().tolist()
                      if (sample_labels == c).sum() >= 2 and (real_labels == c).sum() >= 2}
            if not ratios:
                return float("nan"), None
            worst = min(ratios, key=ratios.get)
            ratio, what = ratios[worst], f"fixed-noise samples of class {classes[worst]!r} are"
        if step >= self.warmup_steps and ratio < self.min_diversity:
            return ratio, (f"possible mode collapse: {what} {ratio:.2f}x as diverse as real images "
                           f"(below {self.min_diversity}); look at the grid")
        return ratio, None
