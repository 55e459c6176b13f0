"""The GAN trainer: one loop a reader can follow top to bottom.

Each step takes one real batch: a D step (the fake batch detached from G's graph), then, every
`n_critic` steps, a G step; it logs errD, errG, D(x) and D(G(z)) and keeps an optional EMA of G.
Every epoch it renders the fixed noise batch to a grid, checks the run's health and writes a
checkpoint; Ctrl-C (or SIGTERM) saves one too. What goes where in the run folder, and what a
checkpoint holds, is gan_models.training.rundir's; the config is gan_models.training.config's.

With `conditional`, it trains the class-conditional networks (gan_models.nets.conditional) on
(image, label) batches of a labelled dataset: D sees each real image with its label and each fake
with the label G drew it for (drawn uniformly), and the grid shows one row per class.

Randomness is a function of (seed, step, rank): each step reseeds the noise generator and the
global RNG (dropout) from those, and the data order depends only on (seed, epoch). So a run
resumed from any checkpoint replays exactly the steps an uninterrupted run takes, and the step
counter is the whole RNG state a checkpoint needs.
"""
import copy
import time
from pathlib import Path

import torch

from gan_models.data import dataset_classes
from gan_models.losses import get_loss, gradient_penalty, mode_seeking_penalty
from gan_models.noise import as_seed, sample_noise
from gan_models.registry import build_discriminator, build_generator
from gan_models.training import distributed, rundir
from gan_models.training.augment import diff_augment, parse_policy
from gan_models.training.checkpoint import remove_partial_writes
from gan_models.training.config import TrainConfig
from gan_models.training.ema import ema_update
from gan_models.training.monitor import HealthMonitor, NonFiniteLossError, non_finite
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
    """

    def __init__(self, config: TrainConfig, out: str | Path, images: torch.Tensor | None = None) -> None:
        self.config = config.resolved()
        self.out = Path(out)
        self.device = distributed.pick_device(self.config.device)
        self.group = distributed.init_from_env(self.device)
        cfg = self.config
        self.loss = get_loss(cfg.loss)
        self.augment = parse_policy(cfg.diffaugment)

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
        if cfg.batch_size < 2 and any(isinstance(m, torch.nn.BatchNorm1d) for net in (self.netG, self.netD)
                                      for m in net.modules()):
            raise ValueError(f"batch_size=1 cannot train {cfg.model}: its BatchNorm1d layers need at least 2 images "
                             "per batch (per process) to compute batch statistics")
        self.netG_ema = copy.deepcopy(self.netG).eval() if cfg.ema_decay > 0 else None
        # Fused Adam updates all of a network's tensors in one kernel instead of ~10 passes over memory.
        self.optG = torch.optim.Adam(self.netG.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2), fused=True)
        self.optD = torch.optim.Adam(self.netD.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2), fused=True)
        self.fixed_noise = sample_noise(64, cfg.nz, cfg.noise, generator=torch.Generator().manual_seed(cfg.seed))

        self.images, self.labels, self.batches = load_trainset(cfg, self.netG.image_shape, self.classes, images,
                                                               self.group.rank, self.group.world_size)
        first = next(self.batches.iterate())  # real images (and labels) for the diversity ratio
        self.real_reference, self.real_labels = (first[0], first[1]) if cfg.conditional else (first[:64], None)
        self.rng = torch.Generator(device=self.device)
        self.step = 0
        self.monitor = HealthMonitor()
        self.report = StepReport(cfg.epochs, show_bar=cfg.progress, enabled=self.group.is_main)
        self.stop = StopSignals()
        self.diversity: float | None = None  # the last epoch's fixed-noise diversity ratio
        if self.loss.gradient_penalty and self.batchnorm_in_d and self.group.is_main:
            self.report.warn(f"{cfg.model}'s critic has BatchNorm, which mixes the images of a batch; the gradient "
                             "penalty assumes each score depends on its own image alone (Gulrajani et al. 2017 use no "
                             "BatchNorm in the critic)")

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

    def _check_finite(self, value: torch.Tensor, name: str) -> None:
        if not torch.isfinite(value):
            raise NonFiniteLossError(f"non-finite loss at step {self.step + 1} ({name}={value.item()}); training "
                                     f"stopped, and {rundir.last_checkpoint_note(self.out)}")

    def _save_checkpoint(self) -> None:
        """Checkpoint the training state; NonFiniteLossError instead if a weight is NaN or inf (see non_finite)."""
        broken = non_finite({"generator": self.netG, "discriminator": self.netD, "EMA generator": self.netG_ema})
        if broken:
            raise NonFiniteLossError(f"non-finite weights in the {' and the '.join(broken)} after step {self.step}; "
                                     "training stopped without saving them, and "
                                     f"{rundir.last_checkpoint_note(self.out)}")
        rundir.save_training_state(self, self.out / rundir.CHECKPOINT)

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
        """D's logits for `images` (and labels), seen through the run's DiffAugment policy if it has one."""
        return self.netD(diff_augment(images, self.augment, self.rng) if self.augment else images, *labels)

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None = None) -> dict:
        """One D step and, every n_critic steps, one G step on a real batch (B, C, H, W) in [-1, 1].

        A conditional run passes the real images' labels, int64 (B,); they reach D as (labels,) in
        `real_y`, and the labels each fake was drawn for as `fake_y` (both () when unconditional).
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
        self._check_finite(errD, "errD")
        self.optD.zero_grad(set_to_none=True)
        errD.backward()
        distributed.average_gradients(self.netD, self.group)
        self.optD.step()

        row = {"errD": errD.item(), "errG": float("nan")}
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
            self._check_finite(errG, "errG")
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
        return row

    # ---- the loop ---------------------------------------------------------------------------

    def fit(self, resume: bool = False) -> TrainResult:
        """Train until `config.epochs` epochs are done; with `resume`, continue from `out/checkpoint.pt`.

        The main process holds `out/.lock` throughout (see gan_models.training.runlock), so a second
        training pointed at the same folder is refused instead of interleaving with this one.
        """
        if not self.group.is_main:
            return self._fit(resume)
        with RunLock(self.out):
            remove_partial_writes(self.out / rundir.CHECKPOINT)
            return self._fit(resume)

    def _fit(self, resume: bool) -> TrainResult:
        cfg, main, checkpoint = self.config, self.group.is_main, self.out / rundir.CHECKPOINT
        total = cfg.epochs * len(self.batches)
        if resume:
            rundir.load_training_state(self, checkpoint)
            if self.step > total:  # refused before config.json is rewritten with the smaller --epochs
                raise ValueError(f"cannot resume {checkpoint} for {cfg.epochs} epoch(s): it has trained "
                                 f"{self.step / len(self.batches):g} epochs ({self.step} steps) already; give "
                                 f"--epochs {-(-self.step // len(self.batches))} or more to continue it")
        elif checkpoint.exists():  # every rank checks, so none is left waiting for the others
            raise FileExistsError(f"{checkpoint} exists; pass --resume to continue that run, or choose another --out")
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
            except TrainingInterrupted:
                if main:
                    self._save_checkpoint()
                    self.report.redraw(self.step // len(self.batches), force=True)
                raise TrainingInterrupted(f"interrupted at step {self.step}; checkpoint saved to {checkpoint}; "
                                          "continue with --resume") from None
            finally:
                self.report.close()
        return TrainResult(self.out, self.step, checkpoint, self.report.last, self.diversity, self.report.warnings)

    def _train_epoch(self, epoch: int, start_batch: int, stop: StopSignals) -> None:
        """The steps of `epoch` (0-based) from batch `start_batch` on; TrainingInterrupted once a signal came."""
        self.batches.set_epoch(epoch)
        self.report.start_epoch(epoch + 1, len(self.batches), start_batch)
        tick = time.perf_counter()
        for batch in self.batches.iterate(start_batch):
            batch = batch if self.config.conditional else (batch,)  # (images,) or (images, labels)
            row = self.train_step(*batch)
            # images/s of the step itself: fetching its batch and the D and G updates (since `tick`).
            row.update(step=self.step, epoch=epoch + 1,
                       images_per_s=len(batch[0]) * self.group.world_size / (time.perf_counter() - tick))
            if self.group.is_main:
                self._after_step(row)
            # On an epoch's last step, end the epoch first: a resumed run starts the next one and
            # would never render this epoch's grid or check its diversity.
            if stop.received is not None and self.step % len(self.batches):
                raise TrainingInterrupted
            tick = time.perf_counter()  # after logging, grids and checkpoints: not part of the next step
        self.report.end_epoch()

    def _after_step(self, row: dict) -> None:
        """Log the step, watch for a collapse, and render or checkpoint when the config asks for it at this step."""
        self.report.step(row)
        if self.loss.nonnegative:  # the collapse check watches D's loss fall to 0
            self.report.warn(self.monitor.check_losses(row["errD"], row["errG"]))
        if self.config.grid_every and self.step % self.config.grid_every == 0:
            rundir.render_grid(self, rundir.step_grid(self.out, self.step))
        if self.config.checkpoint_every and self.step % self.config.checkpoint_every == 0:
            self._save_checkpoint()

    def _end_epoch(self, epoch: int, final: bool) -> None:
        """Render the epoch's grid, check diversity, redraw the loss curve and sheet (now and then), checkpoint."""
        samples = rundir.render_grid(self, rundir.epoch_grid(self.out, epoch))
        grid_labels = rundir.grid_labels(len(samples)) if self.config.conditional else None
        self.diversity, warning = self.monitor.check_diversity(samples, self.real_reference, self.step, grid_labels,
                                                               self.real_labels, self.classes)
        self.report.warn(warning)
        self.report.redraw(epoch, force=final)
        self._save_checkpoint()


def train(config: TrainConfig, out: str | Path, resume: bool = False,
          images: torch.Tensor | None = None) -> TrainResult:
    """Train a GAN as `config` says into the folder `out` (see Trainer); returns the run's TrainResult."""
    trainer = Trainer(config, out, images=images)
    try:
        return trainer.fit(resume=resume)
    finally:
        distributed.shutdown(trainer.group)

