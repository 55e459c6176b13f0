"""Adaptive discriminator augmentation (ADA): the augmentation probability p, tuned by how sure D is of the reals.

Karras, Aittala, Hellsten, Laine, Lehtinen and Aila 2020, "Training Generative Adversarial Networks with
Limited Data" (arXiv 2006.06676), section 3: D overfitting a small training set shows as its raw outputs on
real images turning positive, so the heuristic r_t = E[sign(D(x_real))] over the last `interval` D steps is
compared with a target (0.6). Every `interval` steps p moves by one step towards the side that brings r_t
back, p <- clamp(p + sign(r_t - target) * batch * interval / (kimg * 1000), 0, 1): with `kimg` = 500, p can
go from 0 to 1 in 500,000 real images. The trainer applies each augmentation with probability p
(gan_models.training.augment.diff_augment_with_probability) to every image D sees.

In a distributed run the sign sums and counts of all ranks are added before each adjustment, so every
rank holds the same p, and `batch` is the global batch (per process times the number of processes).
"""
import torch

from gan_models.training import distributed


class AdaptiveAugment:
    """ADA's probability p and the real-logit signs observed since its last adjustment.

    Args:
        target: the r_t it steers to, in (0, 1) (0.6 in the paper).
        interval: D steps between adjustments (4 in the paper).
        kimg: thousands of real images over which p can go from 0 to 1 (500 in the paper).
        batch_size: real images a D step sees, over all processes.
        group: the process group whose ranks' observations are added up (None: this process alone).
        device: where the running sums live (D's device: adding to them is no CPU-GPU sync point).
    """

    def __init__(self, target: float, interval: int, kimg: int, batch_size: int,
                 group: distributed.ProcessGroup | None = None, device: torch.device | str = "cpu") -> None:
        self.target, self.interval, self.group = target, interval, group or distributed.ProcessGroup()
        self.p_step = batch_size * interval / (kimg * 1000)  # how far one adjustment moves p
        self.p = 0.0
        self.r_t: float | None = None  # the heuristic at the last adjustment; None before the first
        self.sums = torch.zeros(2, dtype=torch.float64, device=device)  # (sum of sign(D(x_real)), their number)

    def observe(self, real_logits: torch.Tensor) -> None:
        """Count the signs of D's raw outputs on a real batch, (N, 1) or (N,), of any loss."""
        signs = real_logits.detach().flatten().sign().to(torch.float64)
        self.sums += torch.stack([signs.sum(), torch.tensor(signs.numel(), dtype=torch.float64, device=signs.device)])

    def maybe_adjust(self, step: int) -> bool:
        """After D step `step` (1-based), every `interval` steps: r_t from the observed signs, p moved, sums reset.

        Returns whether it adjusted. Call it on every rank (the sums are added across ranks then).
        """
        if step % self.interval:
            return False
        sums = distributed.sum_across_ranks(self.sums, self.group)
        sign_sum, count = sums.tolist()  # one CPU-GPU sync point every `interval` steps
        self.r_t = sign_sum / count
        direction = (self.r_t > self.target) - (self.r_t < self.target)  # sign(r_t - target)
        self.p = min(max(self.p + direction * self.p_step, 0.0), 1.0)
        self.sums.zero_()
        return True

    def state_dict(self) -> dict:
        """p, the last r_t and the sums since the last adjustment, as plain numbers (a checkpoint's "ada" entry)."""
        sign_sum, count = self.sums.tolist()
        return {"p": self.p, "r_t": self.r_t, "sign_sum": sign_sum, "count": count}

    def load_state_dict(self, state: dict) -> None:
        """Continue from `state_dict()`'s output."""
        self.p, self.r_t = float(state["p"]), state["r_t"]
        self.sums = torch.tensor([state["sign_sum"], state["count"]], dtype=torch.float64, device=self.sums.device)
