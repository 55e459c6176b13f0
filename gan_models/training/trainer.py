"""The GAN trainer: one loop a reader can follow top to bottom.

Each step takes one real batch: a D step (the fake batch detached from G's graph), then, every
`n_critic` steps, a G step; it logs errD, errG, D(x) and D(G(z)) and keeps an optional EMA of G.
Every epoch it renders the fixed noise batch to a grid, checks the run's health and writes a
checkpoint; Ctrl-C (or SIGTERM) saves one too. With `eval_every`, it scores the (EMA) generator's FD
and KID every N steps and keeps the best-scoring one as best.pt (gan_models.training.evaluation).
The trainer owns its state (`state_dict`, `load_state_dict`); what goes where in the run folder,
and what a checkpoint holds, is gan_models.training.rundir's; the config is gan_models.training.config's.

With `ada_target` (--ada), D sees every image through the DiffAugment transformations, each applied with a
probability p that gan_models.training.ada tunes from D's outputs on the reals; with `r1_gamma` (--r1), every
`r1_every` D steps D's loss gains R1, r1_every * gamma / 2 * E[||grad_x D(x)||^2] over the real batch (lazy, as
StyleGAN2; folded into that step's D update, so Adam's settings need no correction).

With `conditional`, it trains the class-conditional networks (gan_models.nets.conditional) on
(image, label) batches of a labelled dataset: D sees each real image with its label and each fake
with the label G drew it for (drawn uniformly), and the grid shows one row per class.

Randomness is a function of (seed, step, rank): each step reseeds the noise generator and the
global RNG (dropout) from those, and the data order depends only on (seed, epoch). So a run
resumed from any checkpoint replays exactly the steps an uninterrupted run takes, and the step
counter is the whole RNG state a checkpoint needs.
"""
import copy
import math
import time
from dataclasses import asdict
from pathlib import Path

import torch

from gan_models.batches import ImageBatches
from gan_models.data import dataset_classes
from gan_models.losses import get_loss, gradient_penalty, mode_seeking_penalty, r1_penalty
from gan_models.noise import as_seed, sample_noise
from gan_models.registry import build_discriminator, build_generator
from gan_models.training import distributed, grids, rundir
from gan_models.training.ada import AdaptiveAugment
from gan_models.training.augment import POLICIES, diff_augment, diff_augment_with_probability, parse_policy
from gan_models.training.checkpoint import CheckpointError, load_checkpoint, remove_partial_writes, save_checkpoint
from gan_models.training.config import TrainConfig, config_differences
from gan_models.training.ema import ema_update
from gan_models.training.evaluation import EVAL_SEED, RunEvaluator, Score, check_evaluable
from gan_models.training.monitor import (
    LOSS_STOP,
    HealthMonitor,
    LossExplosionError,
    NonFiniteLossError,
    d_wins_advice,
    non_finite,
)
from gan_models.training.report import StepReport, TrainResult
from gan_models.training.runlock import RunLock
from gan_models.training.signals import StopSignals, TrainingInterrupted
from gan_models.training.trainset import load_trainset


class Trainer:
    """Trains one GAN described by a TrainConfig into the run folder `out`.

    Args:
        config: the run's configuration (resolved here).
        out: run folder; created if missing.
        images: optional uint8 (N, C, H, W) training images, instead of loading `config.dataset`.
        resume: continue the run in `out` (fit restores it): its checkpoint is read and checked here, before
            the data, so a missing or damaged checkpoint is what the error names even where the data is gone.
    """

    def __init__(self, config: TrainConfig, out: str | Path, images: torch.Tensor | None = None,
                 resume: bool = False) -> None:
        self.config = config.resolved()
        self.out = Path(out)
        self.device = distributed.pick_device(self.config.device)
        # Stamped before it is read: a checkpoint written after this read is seen by fit, under the run lock.
        self.resume_stamp = file_stamp(self.out / rundir.CHECKPOINT) if resume else None
        self.resume_state = read_resume_checkpoint(self.out, map_location=self.device) if resume else None
        self.group = distributed.init_from_env(self.device)
        cfg = self.config
        self.loss = get_loss(cfg.loss)

        # A conditional network's size depends on the number of classes; an unlabelled dataset stops here.
        self.classes = dataset_classes(cfg.dataset, cfg.data_root) if cfg.conditional else ()
        torch.manual_seed(cfg.seed)  # same initial weights on every rank
        self.netG = build_generator(cfg.model, **cfg.generator_kwargs(self.classes)).to(self.device)
        self.netD = build_discriminator(cfg.model, **cfg.discriminator_kwargs(self.classes)).to(self.device)
        # Convolutional nets run faster on CPU in NHWC (oneDNN's native layout); the math is the same.
        convolutional = any(isinstance(m, torch.nn.Conv2d) for m in self.netD.modules())
        self.memory_format = torch.channels_last if convolutional else torch.contiguous_format
        self.netG.to(memory_format=self.memory_format)
        self.netD.to(memory_format=self.memory_format)
        self.batchnorm_in_d = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in self.netD.modules())
        if cfg.batch_size == 1 and any(isinstance(m, torch.nn.BatchNorm1d) for net in (self.netG, self.netD)
                                       for m in net.modules()):
            raise ValueError(f"batch_size=1 cannot train {cfg.model}: its BatchNorm1d layers need at least 2 images "
                             "per batch (per process) to compute batch statistics")
        self.netG_ema = copy.deepcopy(self.netG).eval() if cfg.ema_decay > 0 else None
        self.evaluator: RunEvaluator | None = None  # the main process's, with eval_every
        if cfg.eval_every:  # before the training data: a dataset without a classifier stops here, on every rank
            check_evaluable(cfg.dataset, self.netG.image_shape, self.netG.num_classes)
            if self.group.is_main:
                self.evaluator = RunEvaluator(cfg.dataset, cfg.data_root, cfg.eval_samples, self.netG.image_shape,
                                              self.netG.num_classes)
        self.best: dict | None = None  # {"step", "fd", "kid"} of the best evaluation so far (what best.pt holds)
        self.eval_seconds = self.step_seconds = 0.0  # this process's time evaluating and in training steps
        # Fused Adam updates all of a network's tensors in one kernel instead of ~10 passes over memory.
        self.optG = torch.optim.Adam(self.netG.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2), fused=True)
        self.optD = torch.optim.Adam(self.netD.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2), fused=True)
        self.fixed_noise = sample_noise(64, cfg.nz, cfg.noise, generator=torch.Generator().manual_seed(cfg.seed))

        self.images, self.labels = load_trainset(cfg, self.netG.image_shape, self.classes, images, self.group.rank)
        self.config, data_note = cfg.for_data(len(self.images))  # the batch size and augmentation
        cfg = self.config
        if data_note and self.group.is_main:
            print(data_note, flush=True)
        self.augment = parse_policy(cfg.diffaugment) or (POLICIES if cfg.ada_target else ())
        self.batches = ImageBatches(self.images, cfg.batch_size, labels=self.labels, seed=cfg.seed,
                                    rank=self.group.rank, world_size=self.group.world_size)
        first = next(self.batches.iterate())  # real images (and labels) for the diversity ratio
        self.real_reference, self.real_labels = (first[0], first[1]) if cfg.conditional else (first[:64], None)
        self.rng = torch.Generator(device=self.device)
        self.ada = AdaptiveAugment(cfg.ada_target, cfg.ada_interval, cfg.ada_kimg,
                                   cfg.batch_size * self.group.world_size, self.group,
                                   self.device) if cfg.ada_target else None
        self.step = 0
        self.monitor = HealthMonitor(d_wins_advice=d_wins_advice(
            diffaugment=cfg.diffaugment, ada=bool(cfg.ada_target), batch_size=cfg.batch_size,
            label_smoothing=cfg.label_smoothing, ndf=cfg.ndf))
        self.report = StepReport(cfg.epochs, show_bar=cfg.progress, enabled=self.group.is_main)
        self.stop = StopSignals()
        self.diversity: float | None = None  # the last epoch's fixed-noise diversity ratio
        penalties = [name for name, used in (("the gradient penalty", self.loss.gradient_penalty),
                                             ("R1", cfg.r1_gamma > 0)) if used]
        if penalties and self.batchnorm_in_d and self.group.is_main:
            self.report.warn(f"{cfg.model}'s critic has BatchNorm, which mixes the images of a batch; "
                             f"{' and '.join(penalties)} {'assume' if len(penalties) > 1 else 'assumes'} each score "
                             "depends on its own image alone (Gulrajani et al. 2017 use no BatchNorm in the critic)")

    # ---- one step ---------------------------------------------------------------------------

    def _seed_step(self) -> None:
        """Derive this step's randomness from (seed, step, rank) so resumed runs replay it exactly."""
        seed = as_seed((self.config.seed * 1_000_003 + self.step) * 64 + self.group.rank)
        self.rng.manual_seed(seed)
        torch.manual_seed(seed)

    def _decay_learning_rates(self) -> None:
        """Linear decay (as SN-GAN, Miyato et al. 2018): both rates times 1 - step / the run's steps, 0 at its end."""
        left = 1 - self.step / (self.config.epochs * len(self.batches))
        for optimizer, lr in ((self.optG, self.config.lr_g), (self.optD, self.config.lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = lr * left

    def _noise(self, n: int) -> torch.Tensor:
        return sample_noise(n, self.config.nz, self.config.noise, generator=self.rng, device=self.device)

    def _autocast(self):
        """bfloat16 autocast for forward passes when config.compute_dtype is "bfloat16"; a no-op in float32."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.compute_dtype == "bfloat16")

    def _check_loss(self, value: torch.Tensor, name: str) -> None:
        """Stop before a NaN, inf or exploded loss (above LOSS_STOP) reaches the weights."""
        loss = value.item()
        if not math.isfinite(loss):
            raise NonFiniteLossError(f"non-finite loss at step {self.step + 1} ({name}={loss}); training "
                                     f"stopped, and {rundir.last_checkpoint_note(self.out)}")
        if abs(loss) > LOSS_STOP:
            raise LossExplosionError(f"the loss exploded at step {self.step + 1} ({name}={loss:.3g}, beyond "
                                     f"{LOSS_STOP:g}): training diverged and stopped (lower the learning rates), "
                                     f"and {rundir.last_checkpoint_note(self.out)}")

    def _save_checkpoint(self) -> None:
        """Checkpoint the training state; NonFiniteLossError instead if a weight or an Adam moment is NaN or inf."""
        # A loss can stay finite while an update makes weights non-finite (a huge learning rate), or while
        # squared gradients overflow Adam's second moments to inf (then every update is 0 and G stops learning).
        weights = non_finite({"generator": self.netG, "discriminator": self.netD, "EMA generator": self.netG_ema})
        moments = non_finite({"generator's": self.optG, "discriminator's": self.optD})
        broken = ([f"non-finite weights in the {' and the '.join(weights)}"] if weights else []) + (
            [f"non-finite Adam state in the {' and the '.join(moments)} optimizer"] if moments else [])
        if broken:
            raise NonFiniteLossError(f"{'; '.join(broken)} after step {self.step}; training stopped without saving "
                                     f"them, and {rundir.last_checkpoint_note(self.out)}")
        save_checkpoint(self.state_dict(), self.out / rundir.CHECKPOINT)

    def state_dict(self) -> dict:
        """The whole training state, as a checkpoint holds it (its entries: gan_models.training.rundir)."""
        cfg = self.config
        return {
            "model": cfg.model,
            "dataset": cfg.dataset,
            "num_images": len(self.images),
            "config": asdict(cfg),
            "generator_kwargs": cfg.generator_kwargs(self.classes),
            "step": self.step,
            "generator": self.netG.state_dict(),
            "discriminator": self.netD.state_dict(),
            "ema_generator": self.netG_ema.state_dict() if self.netG_ema is not None else None,
            "optimizer_g": self.optG.state_dict(),
            "optimizer_d": self.optD.state_dict(),
            "fixed_noise": self.fixed_noise,
            "monitor": self.monitor.state_dict(),
            "best": self.best,
            "ada": self.ada.state_dict() if self.ada is not None else None,
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from `state_dict()`'s output (a loaded checkpoint); ValueError, before any of it is loaded,
        if it was trained under another config or data, or holds NaN or inf."""
        differences = config_differences(state["config"], self.config)
        if differences:
            raise ValueError("the config differs from the checkpoint's in " + "; ".join(differences))
        if state["num_images"] != len(self.images):  # the step -> (epoch, batch) mapping depends on it
            raise ValueError(f"the checkpoint was trained on {state['num_images']} images, this run has "
                             f"{len(self.images)}; resume on the same data, or choose another --out")
        saved_classes = tuple(state["generator_kwargs"].get("classes", ()))
        if saved_classes != self.classes:  # a folder whose class subfolders changed would relabel every image
            raise ValueError(f"the checkpoint was trained on classes {list(saved_classes)}, this data has "
                             f"{list(self.classes)}")
        broken = non_finite({name: state.get(name) for name in
                             ("generator", "discriminator", "ema_generator", "optimizer_g", "optimizer_d")})
        if broken:  # written by a version that did not check before saving
            raise ValueError(f"its {', '.join(broken)} hold NaN or inf (the run diverged); resume from an earlier "
                             "copy, or start again with lower learning rates")
        self.netG.load_state_dict(state["generator"])
        self.netD.load_state_dict(state["discriminator"])
        if self.netG_ema is not None:
            self.netG_ema.load_state_dict(state["ema_generator"])
        self.optG.load_state_dict(state["optimizer_g"])
        self.optD.load_state_dict(state["optimizer_d"])
        self.fixed_noise = state["fixed_noise"].cpu()
        if "monitor" in state:  # checkpoints written before it was saved start with empty loss windows
            self.monitor.load_state_dict(state["monitor"])
        self.best = state.get("best")  # absent before --eval-every existed
        if self.ada is not None and state.get("ada") is not None:  # absent before --ada existed: p starts at 0
            self.ada.load_state_dict(state["ada"])
        self.step = state["step"]

    def render_grid(self, path: Path) -> torch.Tensor:
        """The fixed-noise grid of the EMA generator (if enabled, else G) saved to `path`; the samples."""
        generator = self.netG_ema if self.netG_ema is not None else self.netG
        return grids.render_grid(generator, self.fixed_noise, self.classes, path, self.device)

    def _fake_labels(self, n: int) -> tuple[torch.Tensor, ...]:
        """The labels G draws a fake batch for, uniform over the classes: (labels (n,),); () if unconditional.

        With mode seeking, the batch's second half repeats its first half's labels (sample i + ceil(n / 2)
        has sample i's), so that the pairs `mode_seeking_penalty` compares differ only in their noise.
        """
        if not self.config.conditional:
            return ()
        drawn = n - n // 2 if self.config.mode_seeking else n
        labels = torch.randint(len(self.classes), (drawn,), generator=self.rng, device=self.device)
        return (labels.repeat(2)[:n] if self.config.mode_seeking else labels,)

    def _discriminate(self, images: torch.Tensor, *labels: torch.Tensor) -> torch.Tensor:
        """D's logits for `images` (and labels), seen through the run's DiffAugment policy if it has one: each
        transformation with ADA's probability p with --ada, else always."""
        if self.ada is not None:
            images = diff_augment_with_probability(images, self.augment, self.ada.p, self.rng)
        elif self.augment:
            images = diff_augment(images, self.augment, self.rng)
        return self.netD(images, *labels)

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None = None) -> dict:
        """One D step and, every n_critic steps, one G step on a real batch (B, C, H, W) in [-1, 1].

        A conditional run passes the real images' labels, int64 (B,); they reach D as (labels,) in
        `real_y`, and the labels each fake was drawn for as `fake_y` (both () when unconditional).
        The row's errD is D's loss without R1, which is logged on its own (`r1`, on the steps it is computed);
        with --ada, `ada_p` is p after this step (what the next one uses) and `ada_r_t` the last adjustment's r_t.
        """
        cfg, loss = self.config, self.loss
        self._seed_step()
        if cfg.lr_decay:
            self._decay_learning_rates()
        real = real.to(self.device, memory_format=self.memory_format, non_blocking=True)
        real_y = () if labels is None else (labels.to(self.device, non_blocking=True),)
        g_step = (self.step + 1) % cfg.n_critic == 0
        reuse_fake = g_step and not cfg.fresh_noise

        # D step: maximise log D(x) + log(1 - D(G(z))) (or the chosen loss); G's graph is kept only
        # if the G step below reuses this fake batch. Losses are computed in float32 in any compute dtype.
        with self._autocast():
            with torch.set_grad_enabled(reuse_fake):
                z = self._noise(real.shape[0])
                fake_y = self._fake_labels(real.shape[0])
                fake = self.netG(z, *fake_y)
            if self.batchnorm_in_d:  # batch statistics must not mix real and fake images
                real_logits, fake_logits = self._discriminate(real, *real_y), self._discriminate(fake.detach(), *fake_y)
            else:  # one pass over both batches: the same logits, fewer and larger matrix products
                both_y = tuple(torch.cat(pair) for pair in zip(real_y, fake_y, strict=True))
                both = self._discriminate(torch.cat([real, fake.detach()]), *both_y)
                real_logits, fake_logits = both.split(real.shape[0])
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        if cfg.label_flip and torch.rand((), generator=self.rng, device=self.device).item() < cfg.label_flip:
            errD = loss.d_loss(fake_logits, real_logits, 1.0 - cfg.label_smoothing)  # flipped labels
        else:
            errD = loss.d_loss(real_logits, fake_logits, 1.0 - cfg.label_smoothing)
        if loss.gradient_penalty:  # a conditional critic scores each interpolate under its real image's label
            penalty = gradient_penalty(lambda x: self._discriminate(x, *real_y), real, fake, generator=self.rng)
            errD = errD + cfg.gp_weight * penalty
        self._check_loss(errD, "errD")
        row = {"errD": errD.item(), "errG": float("nan")}
        if cfg.r1_gamma and (self.step + 1) % cfg.r1_every == 0:  # D sees the reals as in its loss: augmented, labelled
            r1 = cfg.r1_every * cfg.r1_gamma / 2 * r1_penalty(lambda x: self._discriminate(x, *real_y), real)
            self._check_loss(r1, "R1")
            row["r1"] = r1.item()
            errD = errD + r1
        if self.ada is not None:
            self.ada.observe(real_logits)
        self.optD.zero_grad(set_to_none=True)
        errD.backward()
        distributed.average_gradients(self.netD, self.group)
        self.optD.step()

        if g_step:
            # G step against the updated D: non-saturating by default, -log D(G(z)). D gets no gradient here.
            with self._autocast():
                if cfg.fresh_noise:
                    z = self._noise(real.shape[0])
                    fake_y = self._fake_labels(real.shape[0])
                    fake = self.netG(z, *fake_y)
                self.netD.requires_grad_(False)
                fake_logits_g = self._discriminate(fake, *fake_y).float()
            self.netD.requires_grad_(True)
            errG = loss.g_loss(fake_logits_g)
            if cfg.mode_seeking:
                errG = errG + cfg.mode_seeking * mode_seeking_penalty(fake.float(), z)
            self._check_loss(errG, "errG")
            self.optG.zero_grad(set_to_none=True)
            errG.backward()
            distributed.average_gradients(self.netG, self.group)
            self.optG.step()
            if self.netG_ema is not None:
                # Warm-up (as TensorFlow's ExponentialMovingAverage with num_updates): early on the
                # average follows G closely instead of dragging the random initialisation along.
                updates = (self.step + 1) // cfg.n_critic
                ema_update(self.netG_ema, self.netG, min(cfg.ema_decay, (1 + updates) / (10 + updates)))
            row["errG"] = errG.item()

        # D(x) and D(G(z)): mean probabilities for the logistic losses, mean raw scores otherwise.
        squash = torch.sigmoid if loss.probability else (lambda t: t)
        row["D_x"] = squash(real_logits.detach()).mean().item()
        row["D_G_z"] = squash(fake_logits.detach()).mean().item()
        self.step += 1
        if self.ada is not None:  # after the G step: p is one value throughout a step
            self.ada.maybe_adjust(self.step)
            row.update(ada_p=self.ada.p, ada_r_t=self.ada.r_t)
        return row

    # ---- the loop ---------------------------------------------------------------------------

    def fit(self) -> TrainResult:
        """Train until `config.epochs` epochs are done; a trainer made with `resume` continues its checkpoint.

        The main process holds `out/.lock` throughout (see gan_models.training.runlock), so a second
        training pointed at the same folder is refused instead of interleaving with this one.
        """
        if not self.group.is_main:
            return self._fit()
        with RunLock(self.out):
            remove_partial_writes(self.out / rundir.CHECKPOINT)
            remove_partial_writes(self.out / rundir.BEST)
            return self._fit()

    def _fit(self) -> TrainResult:
        cfg, main, checkpoint = self.config, self.group.is_main, self.out / rundir.CHECKPOINT
        total = cfg.epochs * len(self.batches)
        resume = self.resume_state is not None
        if resume:
            self._resume(checkpoint)
            if self.step > total:  # refused before config.json is rewritten with the smaller --epochs
                raise ValueError(f"cannot resume {checkpoint} for {cfg.epochs} epoch(s): it has trained "
                                 f"{self.step / len(self.batches):g} epochs ({self.step} steps) already; give "
                                 f"--epochs {-(-self.step // len(self.batches))} or more to continue it")
        elif checkpoint.exists():  # every rank checks, so none is left waiting for the others
            raise FileExistsError(f"{checkpoint} exists; pass --resume to continue that run, or choose another --out")
        elif main:  # a best.pt without a checkpoint is a killed start's, perhaps of another config
            (self.out / rundir.BEST).unlink(missing_ok=True)
        if main:
            self.out.mkdir(parents=True, exist_ok=True)
            rundir.write_config(self.out, cfg)
        self.report.open_log(self.out, resume_step=self.step if resume else None)
        with self.stop as stop:  # until the interrupted run's checkpoint is saved, too
            try:
                while self.step < total:
                    if stop.received is not None:  # arrived during an epoch's last step or its end
                        raise TrainingInterrupted
                    epoch, start_batch = divmod(self.step, len(self.batches))
                    self._train_epoch(epoch, start_batch, stop)
                    if main:
                        self._end_epoch(epoch + 1, final=self.step == total)
                    distributed.barrier(self.group)
                if stop.received is not None:  # arrived during the last step or the end of the last epoch
                    raise TrainingInterrupted
            except TrainingInterrupted:
                if main:
                    self._save_checkpoint()
                    self.report.redraw(self.step // len(self.batches), force=True)
                raise TrainingInterrupted(f"interrupted at step {self.step}; checkpoint saved to {checkpoint}; "
                                          "continue with --resume") from None
            finally:
                self.report.close()
        if self.evaluator is not None:
            share = f", {self.eval_seconds / self.step_seconds:.1%} of" if self.step_seconds else " beside"
            self.report.note(f"evaluation took {self.eval_seconds:.1f} s{share} the {self.step_seconds:.1f} s in "
                             "training steps (of this process); "
                             + (f"best FD {self.best['fd']:.3f} at step {self.best['step']}: {self.out / rundir.BEST}"
                                if self.best else "no evaluation scored"))
        return TrainResult(self.out, self.step, checkpoint, self.report.last, self.diversity, self.report.warnings,
                           self.best)

    def _resume(self, checkpoint: Path) -> None:
        """Restore this trainer from the state __init__ read from `checkpoint`, read again if another run has
        replaced the file since; CheckpointError (one line naming it) if it does not fit this trainer."""
        state, self.resume_state = self.resume_state, None  # the networks hold it now; free the copy
        if file_stamp(checkpoint) != self.resume_stamp:  # another run wrote it since __init__ read it
            state = read_resume_checkpoint(self.out, map_location=self.device)
        try:
            self.load_state_dict(state)
        except (ValueError, RuntimeError, KeyError, TypeError) as err:  # torch's load_state_dict raises these
            raise CheckpointError(f"cannot resume {checkpoint}: {' '.join(str(err).split())}") from None

    def _train_epoch(self, epoch: int, start_batch: int, stop: StopSignals) -> None:
        """The steps of `epoch` (0-based) from batch `start_batch` on; TrainingInterrupted once a signal came."""
        self.batches.set_epoch(epoch)
        self.report.start_epoch(epoch + 1, len(self.batches), start_batch)
        tick = time.perf_counter()
        for batch in self.batches.iterate(start_batch):
            batch = batch if self.config.conditional else (batch,)  # (images,) or (images, labels)
            row = self.train_step(*batch)
            # images/s of the step itself: fetching its batch and the D and G updates (since `tick`).
            seconds = time.perf_counter() - tick
            self.step_seconds += seconds
            row.update(step=self.step, epoch=epoch + 1, images_per_s=len(batch[0]) * self.group.world_size / seconds)
            if self.group.is_main:
                self._after_step(row)
            # On an epoch's last step, end the epoch first: a resumed run starts the next one and
            # would never render this epoch's grid or check its diversity.
            if stop.received is not None and self.step % len(self.batches):
                raise TrainingInterrupted
            tick = time.perf_counter()  # after logging, grids and checkpoints: not part of the next step
        self.report.end_epoch()

    def _after_step(self, row: dict) -> None:
        """Evaluate, log the step, watch for a collapse, and render or checkpoint when the config asks for it."""
        cfg = self.config
        if cfg.eval_every and (self.step % cfg.eval_every == 0 or self.step == cfg.epochs * len(self.batches)):
            score = self._evaluate()
            row.update(fd=score.fd, kid=score.kid, eval_s=score.seconds)
        self.report.step(row)
        self.report.warn(self.monitor.check_scale(row["errD"], row["errG"], self.step))
        if self.loss.nonnegative:  # the collapse check watches D's loss fall to 0
            self.report.warn(self.monitor.check_losses(row["errD"], row["errG"]))
        if self.loss.probability:  # D(G(z)) is a probability: D winning outright is watched from step 1
            self.report.warn(self.monitor.check_d_wins(row["D_G_z"], self.step))
        if self.config.grid_every and self.step % self.config.grid_every == 0:
            self.render_grid(rundir.step_grid(self.out, self.step))
        if self.config.checkpoint_every and self.step % self.config.checkpoint_every == 0:
            self._save_checkpoint()

    def _evaluate(self) -> Score:
        """Score the generator that ships (EMA if enabled, else G); a new best goes to best.pt before the
        checkpoint that records it, so a resumed run that replays this step rewrites the same file."""
        score = self.evaluator.score(self.netG_ema if self.netG_ema is not None else self.netG, self.step)
        self.eval_seconds += score.seconds
        new_best = score.beats(self.best)
        if new_best:
            self.best = {"step": score.step, "fd": score.fd, "kid": score.kid}
            cfg = self.config
            save_checkpoint({"model": cfg.model, "dataset": cfg.dataset, "num_images": len(self.images),
                             "config": asdict(cfg),
                             "generator_kwargs": cfg.generator_kwargs(self.classes), "step": self.step,
                             "generator": self.netG.state_dict(),
                             "ema_generator": self.netG_ema.state_dict() if self.netG_ema is not None else None,
                             "evaluation": {**self.best, "samples": self.evaluator.samples, "seed": EVAL_SEED}},
                            self.out / rundir.BEST)
        self.report.note(f"step {score.step}: FD {score.fd:.3f}, KID {score.kid:.4f} ({score.seconds:.1f} s)"
                         + (f"; the best so far, saved to {self.out / rundir.BEST}" if new_best else ""))
        return score

    def _end_epoch(self, epoch: int, final: bool) -> None:
        """Render the epoch's grid, check diversity, redraw the loss curve and sheet (now and then), checkpoint."""
        samples = self.render_grid(rundir.epoch_grid(self.out, epoch))
        labels = grids.grid_labels(len(samples)) if self.config.conditional else None
        self.diversity, warning = self.monitor.check_diversity(samples, self.real_reference, self.step, labels,
                                                               self.real_labels, self.classes)
        self.report.warn(warning)
        self.report.redraw(epoch, force=final)
        self._save_checkpoint()


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """(inode, size, mtime in ns) of `path`, or None if it is missing: changes whenever the file is replaced."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def read_resume_checkpoint(out: Path, map_location: str | torch.device = "cpu") -> dict:
    """The checkpoint of the run folder `out`, whole and checked for training (see load_checkpoint);
    CheckpointError, one line naming it, if it is missing, damaged or incomplete."""
    checkpoint = out / rundir.CHECKPOINT
    if not checkpoint.exists():
        hint = ("the run stopped before its first checkpoint, so nothing is lost by starting it again"
                if (out / rundir.CONFIG).exists() else f"there is no run in {out} to resume")
        raise CheckpointError(f"checkpoint not found: {checkpoint}; {hint}: run the same command without --resume")
    return load_checkpoint(checkpoint, map_location=map_location, training=True)


def train(config: TrainConfig, out: str | Path, resume: bool = False,
          images: torch.Tensor | None = None) -> TrainResult:
    """Train a GAN as `config` says into the folder `out` (see Trainer); returns the run's TrainResult."""
    trainer = Trainer(config, out, images=images, resume=resume)
    try:
        return trainer.fit()
    finally:
        distributed.shutdown(trainer.group)

