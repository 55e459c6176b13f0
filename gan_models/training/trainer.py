"""The GAN trainer: one loop a reader can follow top to bottom.

Each step takes one real batch: a D step (the fake batch detached from G's graph), then, every
`n_critic` steps, a G step; it logs errD, errG, D(x) and D(G(z)) and keeps an optional EMA of G.
Every epoch it renders the fixed noise batch to a grid, checks the run's health and writes a
checkpoint; Ctrl-C (or SIGTERM) saves one too.

Randomness is a function of (seed, step, rank): each step reseeds the noise generator and the
global RNG (dropout) from those, and the data order depends only on (seed, epoch). So a run
resumed from any checkpoint replays exactly the steps an uninterrupted run takes, and the step
counter is the whole RNG state a checkpoint needs.

Run folder:
    config.json          the resolved TrainConfig
    checkpoint.pt        the latest checkpoint (see gan_models.training.checkpoint)
    log.csv, losses.png  per-step losses and their curve (gan_models.training.runlog)
    grids/epoch_0001.png 8 x 8 grid of the fixed noise after each epoch (and step_*.png if asked)
    progress.png         all epoch grids on one sheet
"""
import copy
import json
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from gan_models.atomic import atomic_write
from gan_models.data import ImageBatches, load_images
from gan_models.images import save_grid, save_sheet
from gan_models.losses import get_loss, gradient_penalty
from gan_models.nets.base import eval_mode
from gan_models.noise import MAX_SEED, as_seed, check_noise_kind, sample_noise
from gan_models.registry import build_discriminator, build_generator, get_spec
from gan_models.training import distributed
from gan_models.training.checkpoint import load_checkpoint, remove_partial_writes, save_checkpoint
from gan_models.training.monitor import HealthMonitor, NonFiniteLossError
from gan_models.training.runlock import RunLock
from gan_models.training.runlog import RunLog

# Radford et al. train DCGAN-64 with lr 2e-4; the assignment uses 1e-3 for the 28 x 28 models.
DEFAULT_LR = {"fcgan": 1e-3, "lsgan": 1e-3, "dcgan": 1e-3, "dcgan64": 2e-4}

PRECISIONS = ("fp32", "bf16")

# Fields that may change between a run and its resumption: they do not alter what a step computes.
RESUMABLE_CHANGES = {"epochs", "data_root", "download", "device", "grid_every", "checkpoint_every", "progress"}


@dataclass
class TrainConfig:
    """Everything that defines a training run; None means "the model's default" until `resolved()`."""

    model: str = "fcgan"  # which GAN: fcgan, lsgan, dcgan (28 x 28) or dcgan64
    dataset: str = "mnist"  # mnist, fashion-mnist, celeba or folder
    data_root: str | None = None  # data folder; default $GAN_MODELS_DATA, else ./data
    download: bool = False  # let torchvision fetch a missing dataset (needs internet)
    split: str = "train"  # train, test, or all (GANs use no labels, so merging is fine)
    max_images: int | None = None  # train on the first N images only (quick runs, tests)
    channels: int | None = None  # image channels; default: 1 for the MNIST family, else 3
    nz: int | None = None  # latent size; default: the generator's (96, or 100 for dcgan64)
    ngf: int | None = None  # generator width; default: the generator's
    ndf: int | None = None  # discriminator width; default: the discriminator's
    noise: str = "normal"  # latent distribution: normal (lectures) or uniform on [-1, 1] (assignment)
    loss: str | None = None  # vanilla, minimax, lsgan, wgan-gp or hinge; default: the model's
    epochs: int = 10  # passes over the data
    batch_size: int = 128  # real images per step (per process when distributed)
    lr_g: float | None = None  # generator Adam learning rate; default 1e-3 (2e-4 for dcgan64)
    lr_d: float | None = None  # discriminator Adam learning rate; default 1e-3 (2e-4 for dcgan64)
    beta1: float = 0.5  # Adam beta1 for both networks (0.5 as in DCGAN and the assignment)
    beta2: float = 0.999  # Adam beta2 for both networks
    n_critic: int = 1  # D steps per G step (5 is usual for WGAN-GP)
    gp_weight: float = 10.0  # gradient-penalty weight, used by the wgan-gp loss only
    label_smoothing: float = 0.0  # one-sided: real target 1 - this (0.1 is common)
    label_flip: float = 0.0  # probability that a D step swaps the real and fake labels
    fresh_noise: bool = False  # G step draws new noise instead of reusing the D step's fake batch
    ema_decay: float = 0.0  # EMA of G's parameters and buffers (e.g. 0.999, warmed up); 0 disables
    precision: str = "fp32"  # fp32, or bf16: autocast forward passes to bfloat16 (about 2x faster with AVX512-BF16)
    seed: int = 0  # seeds initialisation, noise, data order: same seed, same run
    device: str = "auto"  # cpu, cuda, cuda:N, or auto (CUDA when available)
    grid_every: int = 0  # also render the fixed-noise grid every N steps; 0: per epoch only
    checkpoint_every: int = 0  # also checkpoint every N steps; 0: per epoch only
    progress: bool = True  # show tqdm progress bars

    def resolved(self) -> "TrainConfig":
        """A copy with every default filled in and every value checked (ValueError names the field)."""
        spec = get_spec(self.model)
        loss = get_loss(self.loss or spec.loss)
        check_noise_kind(self.noise)
        if not loss.labels and (self.label_smoothing or self.label_flip):
            # Smoothing would be ignored, and flipping would train the critic backwards on those steps.
            raise ValueError(f"label_smoothing and label_flip act on real/fake labels, which the {loss.name} "
                             f"loss has none of; set them to 0 (got {self.label_smoothing}, {self.label_flip})")
        digits = self.dataset in ("mnist", "fashion-mnist")
        default_nz = 100 if self.model == "dcgan64" else 96
        checks = {"epochs": self.epochs >= 1, "nz": self.nz is None or self.nz >= 1,
                  "ngf": self.ngf is None or self.ngf >= 1, "ndf": self.ndf is None or self.ndf >= 1,
                  "channels": self.channels in (None, 1, 3), "precision": self.precision in PRECISIONS,
                  "batch_size": self.batch_size >= 1, "n_critic": self.n_critic >= 1,
                  "label_smoothing": 0 <= self.label_smoothing < 1, "label_flip": 0 <= self.label_flip < 1,
                  "ema_decay": 0 <= self.ema_decay < 1, "gp_weight": self.gp_weight >= 0,
                  "grid_every": self.grid_every >= 0, "checkpoint_every": self.checkpoint_every >= 0,
                  "max_images": self.max_images is None or self.max_images >= 1,
                  "seed": 0 <= self.seed <= MAX_SEED,
                  "lr_g": self.lr_g is None or self.lr_g > 0, "lr_d": self.lr_d is None or self.lr_d > 0}
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError("invalid training config: " + ", ".join(f"{n}={getattr(self, n)!r}" for n in bad))
        return TrainConfig(**{**asdict(self),
                              "loss": self.loss or spec.loss,
                              "nz": self.nz or default_nz,
                              "channels": self.channels or (1 if digits else 3),
                              "lr_g": self.lr_g or DEFAULT_LR[self.model],
                              "lr_d": self.lr_d or DEFAULT_LR[self.model]})

    def generator_kwargs(self) -> dict:
        """Constructor keywords of the generator this (resolved) config trains."""
        widths = {"ngf": self.ngf} if self.ngf else {}
        return {"nz": self.nz, "channels": self.channels, "noise": self.noise, **widths}

    def discriminator_kwargs(self) -> dict:
        """Constructor keywords of the discriminator this (resolved) config trains."""
        widths = {"ndf": self.ndf} if self.ndf else {}
        return {"channels": self.channels, **widths}


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped training after a checkpoint of the last finished step was saved."""


@dataclass
class TrainResult:
    """What a finished run reports: where things are and how it ended."""

    out: Path
    step: int  # steps completed
    checkpoint: Path
    last: dict = field(default_factory=dict)  # the last logged row (errD, errG, D_x, D_G_z, ...)
    diversity: float | None = None  # last epoch's fixed-noise diversity ratio (1 = as diverse as real data)
    warnings: list[str] = field(default_factory=list)


def config_differences(saved: dict, current: TrainConfig) -> list[str]:
    """Fields (outside RESUMABLE_CHANGES) whose values differ, as 'name: saved -> current'."""
    now = asdict(current)
    return [f"{name}: {saved.get(name)!r} -> {now[name]!r}" for name in now
            if name not in RESUMABLE_CHANGES and saved.get(name) != now[name]]


def _pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but CUDA is not available; use --device cpu")
    return device


def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model, for parameters and floating buffers; integer buffers are copied."""
    with torch.no_grad():
        pairs = zip([*ema.parameters(), *ema.buffers()], [*model.parameters(), *model.buffers()], strict=True)
        for ema_t, t in pairs:
            if t.is_floating_point():
                ema_t.lerp_(t, 1.0 - decay)
            else:
                ema_t.copy_(t)


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
        self.device = _pick_device(self.config.device)
        self.group = distributed.init_from_env(self.device)
        cfg = self.config
        self.loss = get_loss(cfg.loss)

        torch.manual_seed(cfg.seed)  # same initial weights on every rank
        self.netG = build_generator(cfg.model, **cfg.generator_kwargs()).to(self.device)
        self.netD = build_discriminator(cfg.model, **cfg.discriminator_kwargs()).to(self.device)
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

        if images is None:
            images = load_images(cfg.dataset, cfg.data_root, split=cfg.split, download=cfg.download,
                                 image_size=self.netG.image_size, channels=cfg.channels)
        expected = (cfg.channels, self.netG.image_size, self.netG.image_size)
        if images.dim() != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"training images must be (N, {', '.join(map(str, expected))}), got {tuple(images.shape)}")
        self.images = images[:cfg.max_images] if cfg.max_images else images
        self.batches = ImageBatches(self.images, cfg.batch_size, seed=cfg.seed,
                                    rank=self.group.rank, world_size=self.group.world_size)
        self.real_reference = next(self.batches.iterate())[:64]  # for the diversity ratio
        self.rng = torch.Generator(device=self.device)
        self.step = 0
        self.monitor = HealthMonitor()
        self.warnings: list[str] = []
        self.diversity: float | None = None  # the last epoch's fixed-noise diversity ratio
        self._stop_signal: int | None = None
        if self.loss.gradient_penalty and self.batchnorm_in_d and self.group.is_main:
            self._warn(f"{cfg.model}'s critic has BatchNorm, which mixes the images of a batch; the gradient penalty "
                       "assumes each score depends on its own image alone (Gulrajani et al. 2017 use no BatchNorm in "
                       "the critic)", None)

    # ---- one step ---------------------------------------------------------------------------

    def _seed_step(self) -> None:
        """Derive this step's randomness from (seed, step, rank) so resumed runs replay it exactly."""
        seed = as_seed((self.config.seed * 1_000_003 + self.step) * 64 + self.group.rank)
        self.rng.manual_seed(seed)
        torch.manual_seed(seed)

    def _noise(self, n: int) -> torch.Tensor:
        return sample_noise(n, self.config.nz, self.config.noise, generator=self.rng, device=self.device)

    def _autocast(self):
        """bfloat16 autocast for forward passes when config.precision is "bf16"; a no-op in fp32."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.precision == "bf16")

    def _check_finite(self, value: torch.Tensor, name: str) -> None:
        if not torch.isfinite(value):
            raise NonFiniteLossError(
                f"non-finite loss at step {self.step + 1} ({name}={value.item()}); training stopped, and the last "
                f"good checkpoint is untouched: {self.out / 'checkpoint.pt'}")

    def train_step(self, real: torch.Tensor) -> dict:
        """One D step and, every n_critic steps, one G step on a real batch (B, C, H, W) in [-1, 1]."""
        cfg, loss = self.config, self.loss
        self._seed_step()
        real = real.to(self.device, memory_format=self.memory_format, non_blocking=True)
        g_step = (self.step + 1) % cfg.n_critic == 0
        reuse_fake = g_step and not cfg.fresh_noise

        # D step: maximise log D(x) + log(1 - D(G(z))) (or the chosen loss); G's graph is kept only
        # if the G step below reuses this fake batch. Losses are computed in float32 in any precision.
        with self._autocast():
            with torch.set_grad_enabled(reuse_fake):
                fake = self.netG(self._noise(real.shape[0]))
            if self.batchnorm_in_d:  # batch statistics must not mix real and fake images
                real_logits, fake_logits = self.netD(real), self.netD(fake.detach())
            else:  # one pass over both batches: the same logits, fewer and larger matrix products
                real_logits, fake_logits = self.netD(torch.cat([real, fake.detach()])).split(real.shape[0])
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        if cfg.label_flip and torch.rand((), generator=self.rng, device=self.device).item() < cfg.label_flip:
            errD = loss.d_loss(fake_logits, real_logits, 1.0 - cfg.label_smoothing)  # flipped labels
        else:
            errD = loss.d_loss(real_logits, fake_logits, 1.0 - cfg.label_smoothing)
        if loss.gradient_penalty:
            errD = errD + cfg.gp_weight * gradient_penalty(self.netD, real, fake, generator=self.rng)
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
                    fake = self.netG(self._noise(real.shape[0]))
                self.netD.requires_grad_(False)
                fake_logits_g = self.netD(fake).float()
            self.netD.requires_grad_(True)
            errG = loss.g_loss(fake_logits_g)
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
        squash = torch.sigmoid if cfg.loss in ("vanilla", "minimax") else (lambda t: t)
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
            remove_partial_writes(self.out / "checkpoint.pt")
            return self._fit(resume)

    def _fit(self, resume: bool) -> TrainResult:
        cfg, main = self.config, self.group.is_main
        checkpoint_path = self.out / "checkpoint.pt"
        if resume:
            self._load(checkpoint_path)
        elif checkpoint_path.exists():  # every rank checks, so none is left waiting for the others
            raise FileExistsError(f"{checkpoint_path} exists; pass --resume to continue that run, "
                                  "or choose another --out")
        if main:
            self.out.mkdir(parents=True, exist_ok=True)
            # Written whole or not at all: `train --resume` reads it, and a kill may come at any moment.
            with atomic_write(self.out / "config.json") as tmp:
                tmp.write_text(json.dumps(asdict(cfg), indent=2) + "\n")
        log = RunLog(self.out, resume_step=self.step if resume else None) if main else None
        steps_per_epoch = len(self.batches)
        previous_handlers = self._catch_signals()
        try:
            while self.step < cfg.epochs * steps_per_epoch:
                if self._stop_signal is not None:  # arrived during an epoch's last step or its end
                    raise TrainingInterrupted
                epoch, start_batch = divmod(self.step, steps_per_epoch)
                self.batches.set_epoch(epoch)
                bar = tqdm(total=steps_per_epoch, initial=start_batch, desc=f"epoch {epoch + 1}/{cfg.epochs}",
                           disable=not (cfg.progress and main), dynamic_ncols=True, leave=True)
                tick = time.perf_counter()
                for real in self.batches.iterate(start_batch):
                    row = self.train_step(real)
                    # images/s of the step itself: fetching its batch and the D and G updates (since `tick`).
                    row.update(step=self.step, epoch=epoch + 1,
                               images_per_s=real.shape[0] * self.group.world_size / (time.perf_counter() - tick))
                    if main:
                        log.log(row)
                        if self.loss.nonnegative:  # the collapse check watches D's loss fall to 0
                            self._warn(self.monitor.check_losses(row["errD"], row["errG"]), bar)
                        bar.set_postfix(errD=f"{row['errD']:.3f}", errG=f"{row['errG']:.3f}", Dx=f"{row['D_x']:.2f}",
                                        DGz=f"{row['D_G_z']:.2f}", img_s=f"{row['images_per_s']:.0f}", refresh=False)
                        bar.update()
                        if cfg.grid_every and self.step % cfg.grid_every == 0:
                            self._render(self.out / "grids" / f"step_{self.step:06d}.png")
                        if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                            self._save(checkpoint_path)
                    # On an epoch's last step, end the epoch first: a resumed run starts the next one and
                    # would never render this epoch's grid or check its diversity.
                    if self._stop_signal is not None and self.step % steps_per_epoch:
                        raise TrainingInterrupted
                    tick = time.perf_counter()  # after logging, grids and checkpoints: not part of the next step
                bar.close()
                if main:
                    self._end_epoch(epoch + 1, log, checkpoint_path, final=self.step == cfg.epochs * steps_per_epoch)
                distributed.barrier(self.group)
        except TrainingInterrupted:
            if main:
                self._save(checkpoint_path)
                log.plot(self.out / "losses.png", force=True)
            raise TrainingInterrupted(f"interrupted at step {self.step}; checkpoint saved to {checkpoint_path}; "
                                      "continue with --resume") from None
        finally:
            self._restore_signals(previous_handlers)
            if log is not None:
                log.close()
        return TrainResult(self.out, self.step, checkpoint_path, log.rows[-1] if log and log.rows else {},
                           self.diversity, self.warnings)

    def _end_epoch(self, epoch: int, log: RunLog, checkpoint_path: Path, final: bool) -> None:
        """Render the epoch's grid and the overview sheet, check diversity, draw losses, checkpoint."""
        samples = self._render(self.out / "grids" / f"epoch_{epoch:04d}.png")
        grids = [self.out / "grids" / f"epoch_{e:04d}.png" for e in range(1, epoch + 1)]
        existing = [g for g in grids if g.exists()]
        save_sheet(existing, [f"epoch {int(g.stem.split('_')[1])}" for g in existing], self.out / "progress.png")
        self.diversity, warning = self.monitor.check_diversity(samples, self.real_reference, self.step)
        self._warn(warning, None)
        log.plot(self.out / "losses.png", force=final)
        self._save(checkpoint_path)

    def _warn(self, message: str | None, bar) -> None:
        if message:
            self.warnings.append(message)
            (bar.write if bar is not None else tqdm.write)(f"warning: {message}")

    @torch.no_grad()
    def _render(self, path: Path) -> torch.Tensor:
        """Save the fixed-noise grid (EMA generator if enabled) and return the samples (64, C, H, W)."""
        generator = self.netG_ema if self.netG_ema is not None else self.netG
        with eval_mode(generator):
            samples = generator(self.fixed_noise.to(self.device)).cpu()
        save_grid(samples, path)
        return samples

    # ---- checkpoints ------------------------------------------------------------------------

    def _save(self, path: Path) -> None:
        save_checkpoint({
            "model": self.config.model,
            "dataset": self.config.dataset,
            "num_images": len(self.images),
            "generator_kwargs": self.config.generator_kwargs(),
            "discriminator_kwargs": self.config.discriminator_kwargs(),
            "config": asdict(self.config),
            "step": self.step,
            "generator": self.netG.state_dict(),
            "discriminator": self.netD.state_dict(),
            "ema_generator": self.netG_ema.state_dict() if self.netG_ema is not None else None,
            "optimizer_g": self.optG.state_dict(),
            "optimizer_d": self.optD.state_dict(),
            "fixed_noise": self.fixed_noise,
            "monitor": self.monitor.state_dict(),
        }, path)

    def _load(self, path: Path) -> None:
        state = load_checkpoint(path, map_location=self.device)
        differences = config_differences(state["config"], self.config)
        if differences:
            raise ValueError(f"cannot resume {path}: the config differs from the checkpoint's in "
                             + "; ".join(differences))
        if state["num_images"] != len(self.images):  # the step -> (epoch, batch) mapping depends on it
            raise ValueError(f"cannot resume {path}: the checkpoint was trained on {state['num_images']} images, "
                             f"this run has {len(self.images)}; resume on the same data, or choose another --out")
        self.netG.load_state_dict(state["generator"])
        self.netD.load_state_dict(state["discriminator"])
        if self.netG_ema is not None:
            self.netG_ema.load_state_dict(state["ema_generator"])
        self.optG.load_state_dict(state["optimizer_g"])
        self.optD.load_state_dict(state["optimizer_d"])
        self.fixed_noise = state["fixed_noise"].cpu()
        if "monitor" in state:  # checkpoints written before it was saved start with empty loss windows
            self.monitor.load_state_dict(state["monitor"])
        self.step = state["step"]

    # ---- signals ----------------------------------------------------------------------------

    def _catch_signals(self) -> dict:
        """Turn Ctrl-C and SIGTERM into a stop at the next step boundary (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            return {}

        def stop(signum, frame):
            self._stop_signal = signum

        return {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    @staticmethod
    def _restore_signals(previous: dict) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def train(config: TrainConfig, out: str | Path, resume: bool = False,
          images: torch.Tensor | None = None) -> TrainResult:
    """Train a GAN as `config` says into the folder `out` (see Trainer); returns the run's TrainResult."""
    trainer = Trainer(config, out, images=images)
    try:
        return trainer.fit(resume=resume)
    finally:
        distributed.shutdown(trainer.group)

