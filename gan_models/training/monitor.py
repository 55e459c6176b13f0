"""Signs that GAN training has gone wrong, turned into messages a person can act on.

- Non-finite losses, and non-finite weights or Adam moments before a checkpoint: the trainer stops
  (see `NonFiniteLossError`).
- Exploding losses that stay finite: a warning once a loss's magnitude passes LOSS_WARN, and the trainer
  stops beyond LOSS_STOP (`LossExplosionError`). No loss here comes near either in a run that trains: the
  logistic and hinge losses of a D that is sure of itself are a few tens, and a WGAN-GP critic's scores
  are held near the distances between images by its gradient penalty.
- Discriminator collapse: over the last `window` steps D's loss averages below `d_floor` while
  G's average is at least `g_rise` times its (positive) average in the window before. For the vanilla and
  LSGAN losses this is the "one loss goes to 0 while the other climbs" failure; a Wasserstein critic's
  loss is below 0 by design, so the trainer does not check it.
- D winning outright, early: the median of D(G(z)) (a probability, for the logistic losses) over the last
  `d_wins_steps` (50) steps below `d_wins_below` (0.01) warns at once, from step 50 on. G then gets almost
  no gradient, and on small data such a run collapses long before the loss check's window or the diversity
  check's warm-up would see it (a DCGAN-64 on 300 images gave every sample the same texture by step 129).
  The median, not a run of low steps: a G being beaten still lands the odd batch (D(G(z)) jumping from
  1e-5 to 0.6 and back, as in that run), which would restart a count of steps in a row.
- Mode collapse: the diversity ratio, mean pairwise L2 distance between fixed-noise samples
  divided by the same for a batch of real images of the same size. Real data scores 1; samples
  that all look alike score near 0; a trained FC-GAN on MNIST scores 0.35-0.45, since its digits are
  smoother than real ones. Below `min_diversity` (0.2) after `warmup_steps` (1,000; samples
  of a barely trained G are blurry and alike), we warn, once a run. A conditional run is judged class by class
  (the grid's row of each class against the real images of that class), and by its worst class: a
  G that ignores z draws one image per class, which the ratio over all classes would hide.
"""
import statistics
from collections import deque
from collections.abc import Iterator

import torch

from gan_models.training.augment import parse_policy
from gan_models.training.config import SMALL_BATCH

LOSS_WARN = 1e5  # a loss this large (in magnitude) is warned about once
LOSS_STOP = 1e10  # and one this large stops training: it has diverged


class NonFiniteLossError(RuntimeError):
    """A loss or, after an update, a weight or an optimizer moment became NaN or infinite; training stopped
    without saving it."""


class LossExplosionError(RuntimeError):
    """A loss passed LOSS_STOP while staying finite: training diverged and stopped without saving it."""


def non_finite(parts: dict[str, torch.nn.Module | torch.optim.Optimizer | dict | None]) -> list[str]:
    """The names of the parts (None: skipped) holding a NaN or inf in a floating tensor.

    A part is a module (its parameters and buffers), an optimizer (its state, such as Adam's moments),
    or a state dict as a checkpoint holds either. The trainer checks before each checkpoint, since such a
    checkpoint would become the "last good" one that every --resume starts from, and on resuming.
    """
    return [name for name, part in parts.items() if part is not None and not all(
        torch.isfinite(t).all() for t in _floating_tensors(part.state_dict() if hasattr(part, "state_dict") else part))]


def _floating_tensors(tree) -> Iterator[torch.Tensor]:
    """The floating-point tensors in nested dicts, lists and tuples (a state dict, an optimizer's)."""
    if isinstance(tree, torch.Tensor):
        if tree.is_floating_point():
            yield tree
    elif isinstance(tree, dict):
        for value in tree.values():
            yield from _floating_tensors(value)
    elif isinstance(tree, (list, tuple)):
        for value in tree:
            yield from _floating_tensors(value)


def diversity(images: torch.Tensor) -> float:
    """Mean pairwise L2 distance between images (N, C, H, W), N >= 2."""
    flat = images.detach().flatten(1).float()
    n = flat.shape[0]
    distances = torch.cdist(flat, flat)
    return (distances.sum() / (n * (n - 1))).item()


def d_wins_advice(*, diffaugment: str = "", ada: bool = False, batch_size: int = 128, label_smoothing: float = 0.0,
                  ndf: int | None = None) -> str:
    """What to try when D wins outright, leaving out what the run already does: augmentation when it has none,
    dropping DiffAugment's color when it has it (a shift of every image's brightness by up to a quarter of the
    range hides a plain background's level from D, and G drew mid-grey ones on 300 shapes, docs/training.md),
    a smaller batch above 32, a lower D learning rate, label smoothing when unset, a narrower D."""
    tries, policy = [], parse_policy(diffaugment)
    if not policy and not ada:
        tries.append("--diffaugment translation,cutout")
    elif "color" in policy:
        rest = ",".join(name for name in policy if name != "color") or "translation,cutout"
        tries.append(f"--diffaugment {rest} (color hides plain backgrounds)")
    if batch_size > SMALL_BATCH:
        tries.append("a smaller --batch-size")
    tries.append("a lower --lr-d")
    if not label_smoothing:
        tries.append("--label-smoothing 0.1")
    tries.append("a narrower D (--ndf" + (f" below {ndf})" if ndf else ")"))
    return "try " + ", ".join(tries[:-1]) + " or " + tries[-1]


class HealthMonitor:
    """Watches per-step losses and per-epoch samples; returns warning strings (or None).

    `d_wins_advice` ends the D-wins warning: what the run could change (see `d_wins_advice`).
    """

    def __init__(self, window: int = 50, d_floor: float = 0.05, g_rise: float = 2.0, min_diversity: float = 0.2,
                 warmup_steps: int = 1000, d_wins_below: float = 0.01, d_wins_steps: int = 50,
                 d_wins_advice: str = d_wins_advice()) -> None:
        self.d_wins_advice = d_wins_advice
        self.window, self.d_floor, self.g_rise, self.min_diversity = window, d_floor, g_rise, min_diversity
        self.warmup_steps = warmup_steps
        self.d_wins_below, self.d_wins_steps = d_wins_below, d_wins_steps
        self.d_of_fake: deque[float] = deque(maxlen=d_wins_steps)  # D(G(z)) of the last d_wins_steps steps
        self.warned_d_wins = False
        self.d_losses: deque[float] = deque(maxlen=window)
        self.g_losses: deque[float] = deque(maxlen=2 * window)
        self.warned_collapse = False
        self.warned_scale = False
        self.warned_diversity = False

    def state_dict(self) -> dict:
        """The loss windows and which warnings were given: what a resumed run needs to carry on."""
        return {"d_losses": list(self.d_losses), "g_losses": list(self.g_losses),
                "warned_collapse": self.warned_collapse, "warned_scale": self.warned_scale,
                "d_of_fake": list(self.d_of_fake), "warned_d_wins": self.warned_d_wins,
                "warned_diversity": self.warned_diversity}

    def load_state_dict(self, state: dict) -> None:
        """Continue from `state_dict()`'s output, so a resumed run warns exactly when an uninterrupted one would."""
        self.d_losses.clear(), self.g_losses.clear()
        self.d_losses.extend(state["d_losses"])
        self.g_losses.extend(state["g_losses"])
        self.warned_collapse = state["warned_collapse"]
        self.warned_scale = state.get("warned_scale", False)  # saved from version 2 on
        self.d_of_fake.clear()
        self.d_of_fake.extend(state.get("d_of_fake", ()))  # saved from gan-models 1.1 on
        self.warned_d_wins = state.get("warned_d_wins", False)
        self.warned_diversity = state.get("warned_diversity", False)  # saved from gan-models 1.1 on

    def check_d_wins(self, d_of_fake: float, step: int) -> str | None:
        """Record one step's D(G(z)) (a mean probability in [0, 1]); a warning the first time its median over the
        last `d_wins_steps` steps is below `d_wins_below`."""
        self.d_of_fake.append(d_of_fake)
        if self.warned_d_wins or len(self.d_of_fake) < self.d_wins_steps:
            return None
        median = statistics.median(self.d_of_fake)
        if median >= self.d_wins_below:
            return None
        self.warned_d_wins = True
        return (f"D wins outright: D(G(z)) has had a median of {median:.2g} over the last {self.d_wins_steps} steps "
                f"(step {step}), so G gets almost no gradient and will likely collapse to one image; "
                f"{self.d_wins_advice}")

    def check_scale(self, err_d: float, err_g: float, step: int) -> str | None:
        """A warning the first time a loss's magnitude passes LOSS_WARN (the trainer stops at LOSS_STOP)."""
        big = {name: value for name, value in (("errD", err_d), ("errG", err_g)) if abs(value) > LOSS_WARN}
        if self.warned_scale or not big:
            return None
        self.warned_scale = True
        values = ", ".join(f"{name}={value:.3g}" for name, value in big.items())
        return (f"the losses are exploding at step {step} ({values}, beyond {LOSS_WARN:.0e}): training is diverging; "
                f"it stops beyond {LOSS_STOP:.0e}; lower the learning rates")

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
        if step >= self.warmup_steps and ratio < self.min_diversity and not self.warned_diversity:
            self.warned_diversity = True  # once a run: short epochs would repeat it every few seconds
            return ratio, (f"possible mode collapse: {what} {ratio:.2f}x as diverse as real images "
                           f"(below {self.min_diversity}); look at the grid")
        return ratio, None
