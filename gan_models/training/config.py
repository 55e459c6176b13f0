"""TrainConfig: everything that defines a training run, one field per option, readable without torch.

The command line builds `gan-models train`'s options from this dataclass: each field's
`metadata["help"]` (given through `option`) is its --help text. Saved configs (config.json, and
the copy inside each checkpoint) are read back through `TrainConfig.from_dict`, which accepts what
older versions wrote (gan_models.training.upgrade).
"""
import math
from dataclasses import asdict, dataclass, field, fields

from gan_models.choices import TRAIN_PRECISIONS, check_upsample
from gan_models.data import get_dataset
from gan_models.emoji import EMOJI_DESIGNS
from gan_models.losses import get_loss
from gan_models.noise import MAX_SEED, check_noise_kind
from gan_models.specs import sized_spec
from gan_models.training.upgrade import upgrade_config

# Fields that may change between a run and its resumption: they do not alter what a step computes.
# Not eval_every or eval_samples: a resumed run replays its steps and must score the same ones the same way,
# or the best.pt it rewrites on the way could differ from the uninterrupted run's.
RESUMABLE_CHANGES = {"epochs", "data_root", "download", "device", "grid_every", "checkpoint_every", "progress"}

MAX_EPOCHS = 1_000_000  # beyond any run that could finish; a typo such as 99999999999999999999999 is refused
MIN_EVAL_SAMPLES = 4  # KID's subsets hold half the images, and an unbiased MMD needs two a subset
RANGES = {"epochs": f"1 to {MAX_EPOCHS:,}", "eval_samples": f"{MIN_EVAL_SAMPLES} or more",  # said when outside them
          "ada_target": "a target between 0 and 1, or 0 for off", "ada_interval": "1 or more", "ada_kimg": "1 or more",
          "r1_gamma": "0 or more", "r1_every": "1 or more"}


def option(default, help: str, given_alone=None):
    """A TrainConfig field with its default and its one-line --help text (`metadata["help"]`); `given_alone` is the
    value its option takes when given without one (`--eval-every` alone), None if it needs a value."""
    return field(default=default, metadata={"help": help, "given_alone": given_alone})


# The batch size and augmentation a run takes when its config leaves them unset (None), by its number of images:
# smaller and augmented on small data (`TrainConfig.for_data`). At batch 128, 300 images make 2 steps an epoch,
# and a discriminator that sees the same few hundred images hundreds of times memorises them, wins outright and
# leaves G collapsed (a DCGAN-64 on 300 shapes: every sample the same grey texture by step 129). Measured with
# benchmarks/small_data.py (docs/training.md, "Small datasets"): for the same real images seen, DCGAN-64 on 300-
# and 1,000-image folders trained best at batch 32 (64 and 128 worse at each size), and with DiffAugment's three
# transformations on every image D sees (on 1,000 emoji, general-feature FD 1.07 against 7.08 without; on 300
# shapes it kept G from collapsing). A larger dataset gets batch 128 and no augmentation, as the shipped recipes
# (MNIST's 8,000 images and up) were trained.
SMALL_DATA = 5_000  # fewer images than this is small data
SMALL_BATCH, LARGE_BATCH = 32, 128
SMALL_DATA_AUGMENT = "color,translation,cutout"

DEFAULT_EVAL_EVERY = 500  # `--eval-every` alone: under 10% of training time for every model (docs/training.md)
DEFAULT_ADA_TARGET = 0.6  # `--ada` alone: the paper's target for r_t (Karras et al. 2020, section 3)


@dataclass
class TrainConfig:
    """Everything that defines a training run; None means "the model's default" until `resolved()`."""

    model: str = option("fcgan", "which GAN: fcgan, lsgan, dcgan (28 x 28) or dcgan64 (see `gan-models models`)")
    dataset: str = option("mnist", "mnist, fashion-mnist, celeba, folder or emoji (Emoji64)")
    emoji_design: str = option("both", "with --dataset emoji: google (Noto), twitter (Twemoji) or both")
    conditional: bool = option(
        False, "class-conditional G(z, label) and projection D(x, label); needs a labelled dataset")
    data_root: str | None = option(None, "data folder; default $GAN_MODELS_DATA, else ./data")
    download: bool = option(False, "let torchvision fetch a missing dataset (needs internet)")
    split: str = option("train", "train, test, or all (GANs use no labels, so merging is fine)")
    max_images: int | None = option(None, "train on the first N images only (quick runs, tests)")
    channels: int | None = option(None, "image channels; default: the dataset's (1 for the MNIST family, else 3)")
    image_size: int | None = option(
        None, "image height and width, the data resized to it: dcgan builds 28 (InfoGAN-style) and 32, 64 or 128 "
              "(Radford et al.'s depth per size; at 64 it is dcgan64); default: the model's")
    nz: int | None = option(None, "latent size; default: the model's")
    ngf: int | None = option(None, "generator width; default: the generator's")
    ndf: int | None = option(None, "discriminator width; default: the discriminator's")
    upsample: str | None = option(
        None, "how G doubles its feature maps: transpose (Radford et al.'s 4 x 4 stride-2 transposed convs) or resize "
              "(nearest-neighbour upsampling then a 3 x 3 conv, Odena et al. 2016: no checkerboard by construction); "
              "dcgan at 32, 64 or 128 and dcgan64 only; default: transpose")
    noise: str = option("normal", "latent distribution: normal (lectures) or uniform on [-1, 1] (assignment)")
    loss: str | None = option(None, "vanilla, minimax, lsgan, wgan-gp or hinge; default: the model's")
    epochs: int = option(10, "passes over the data")
    batch_size: int | None = option(
        None, f"real images per step (per process when distributed); default: {SMALL_BATCH} under {SMALL_DATA:,} "
              f"images (small data, docs/training.md), else {LARGE_BATCH}")
    lr_g: float | None = option(None, "generator Adam learning rate; default: the model's")
    lr_d: float | None = option(None, "discriminator Adam learning rate; default: the model's")
    lr_decay: bool = option(
        False, "decay both learning rates linearly to 0 over the run's --epochs (SN-GAN's schedule)")
    beta1: float = option(0.5, "Adam beta1 for both networks (0.5 as in DCGAN and the assignment)")
    beta2: float = option(0.999, "Adam beta2 for both networks")
    n_critic: int = option(1, "D steps per G step (5 is usual for WGAN-GP)")
    gp_weight: float = option(10.0, "gradient-penalty weight, used by the wgan-gp loss only")
    label_smoothing: float = option(0.0, "one-sided: real target 1 - this (0.1 is common)")
    label_flip: float = option(0.0, "probability that a D step swaps the real and fake labels")
    fresh_noise: bool = option(False, "G step draws new noise instead of reusing the D step's fake batch")
    diffaugment: str | None = option(
        None, "DiffAugment for every image D sees, real and fake: any of color,translation,cutout, or '' for none; "
              f"default: all three under {SMALL_DATA:,} images without --ada, else none")
    ada_target: float = option(
        0.0, "adaptive discriminator augmentation (ADA, Karras et al. 2020): each --diffaugment transformation (all "
             "three if none is given) on each image D sees with a probability p, raised while E[sign(D(x_real))] is "
             f"above this target, in (0, 1); 0: off; alone, {DEFAULT_ADA_TARGET} (the paper's)",
        given_alone=DEFAULT_ADA_TARGET)
    ada_interval: int = option(4, "with --ada: adjust p every N D steps (4 in the paper)")
    ada_kimg: int = option(500, "with --ada: p can go from 0 to 1 in this many thousand real images (500 in the paper)")
    r1_gamma: float = option(
        0.0, "R1 regularisation (Mescheder et al. 2018): add gamma / 2 * E[||grad_x D(x)||^2] over the real batch to "
             "D's loss; 0: off")
    r1_every: int = option(16, "with --r1: compute R1 every N D steps, scaled by N (lazy, as StyleGAN2)")
    mode_seeking: float = option(0.0, "weight of MSGAN's mode-seeking term in G's loss (1 in the paper); 0 disables")
    ema_decay: float = option(0.0, "EMA of G's parameters and buffers (e.g. 0.999, warmed up); 0 disables")
    compute_dtype: str = option(
        "float32", "float32, or bfloat16: autocast forward passes (about 2x faster with AMX or a GPU)")
    seed: int = option(0, "seeds initialisation, noise, data order: same seed, same run")
    device: str = option("auto", "cpu, cuda, cuda:N, or auto (CUDA when available)")
    grid_every: int = option(0, "also render the fixed-noise grid every N steps; 0: per epoch only")
    checkpoint_every: int = option(0, "also checkpoint every N steps; 0: per epoch only")
    eval_every: int = option(
        0, "every N steps and after the last, FD and KID of the (EMA) generator against the test split (a folder: "
           "its held-out fifth, in general features); the best generator is kept as best.pt; 0: never; alone, "
           f"{DEFAULT_EVAL_EVERY}, under 10% of training time for every model (an evaluation takes about 1 s; "
           "docs/training.md); not celeba",
        given_alone=DEFAULT_EVAL_EVERY)
    eval_samples: int = option(2000, "images per set of --eval-every's FD and KID, seed 0; capped at the test split "
                                     "(MNIST 2,000, Fashion-MNIST 10,000, emoji 788)")
    progress: bool = option(True, "show tqdm progress bars")

    @classmethod
    def from_dict(cls, saved: dict) -> "TrainConfig":
        """The config a saved dict (config.json, a checkpoint's "config") describes, from any gan-models version.

        Fields it lacks (added by a later version) take their defaults; older names and values are
        translated by `upgrade_config`. Raises ValueError naming fields this version does not know.
        """
        saved = upgrade_config(saved)
        unknown = sorted(set(saved) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown training config field(s) {unknown}: written by a newer gan-models?")
        return cls(**saved)

    def resolved(self) -> "TrainConfig":
        """A copy with every default filled in and every value checked (ValueError names the field)."""
        spec = sized_spec(self.model, self.image_size)  # dcgan at 32 to 128 has dcgan64's defaults
        loss = get_loss(self.loss or spec.loss)
        check_noise_kind(self.noise)
        from gan_models.training.augment import parse_policy  # imports torch: only once a run is being set up

        parse_policy(self.diffaugment or "")
        if not loss.labels and (self.label_smoothing or self.label_flip):
            # Smoothing would be ignored, and flipping would train the critic backwards on those steps.
            raise ValueError(f"label_smoothing and label_flip act on real/fake labels, which the {loss.name} "
                             f"loss has none of; set them to 0 (got {self.label_smoothing}, {self.label_flip})")
        checks = {"epochs": 1 <= self.epochs <= MAX_EPOCHS, "nz": self.nz is None or self.nz >= 1,
                  "ngf": self.ngf is None or self.ngf >= 1, "ndf": self.ndf is None or self.ndf >= 1,
                  "channels": self.channels in (None, 1, 3), "compute_dtype": self.compute_dtype in TRAIN_PRECISIONS,
                  "batch_size": self.batch_size is None or self.batch_size >= 1, "n_critic": self.n_critic >= 1,
                  "label_smoothing": 0 <= self.label_smoothing < 1, "label_flip": 0 <= self.label_flip < 1,
                  "ema_decay": 0 <= self.ema_decay < 1, "gp_weight": 0 <= self.gp_weight < math.inf,
                  "mode_seeking": 0 <= self.mode_seeking < math.inf,
                  "grid_every": self.grid_every >= 0, "checkpoint_every": self.checkpoint_every >= 0,
                  "eval_every": self.eval_every >= 0, "eval_samples": self.eval_samples >= MIN_EVAL_SAMPLES,
                  "max_images": self.max_images is None or self.max_images >= 1,
                  "seed": 0 <= self.seed <= MAX_SEED, "emoji_design": self.emoji_design in EMOJI_DESIGNS,
                  "lr_g": self.lr_g is None or 0 < self.lr_g < math.inf,
                  "lr_d": self.lr_d is None or 0 < self.lr_d < math.inf,
                  "beta1": 0 <= self.beta1 < 1, "beta2": 0 <= self.beta2 < 1,
                  "ada_target": self.ada_target == 0 or 0 < self.ada_target < 1,
                  "ada_interval": self.ada_interval >= 1, "ada_kimg": self.ada_kimg >= 1,
                  "r1_gamma": 0 <= self.r1_gamma < math.inf, "r1_every": self.r1_every >= 1}
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError("invalid training config: " + ", ".join(
                f"{n}={getattr(self, n)!r}" + (f" (give {RANGES[n]})" if n in RANGES else "") for n in bad))
        if self.upsample is not None:
            check_upsample(self.upsample)
            if spec.name != "dcgan64":  # dcgan at 32 to 128 builds dcgan64's generator, the one that takes it
                model = f"dcgan at {self.image_size or spec.image_size}" if self.model == "dcgan" else self.model
                raise ValueError(f"upsample={self.upsample!r} applies to dcgan at 32, 64 or 128 and dcgan64 only "
                                 f"(Radford et al.'s generator), not {model}; leave it out")
        dataset_channels = get_dataset(self.dataset).channels
        if self.dataset != "emoji" and self.emoji_design != TrainConfig.emoji_design:
            raise ValueError(f"emoji_design={self.emoji_design!r} applies to --dataset emoji only, not {self.dataset}; "
                             "leave it out")
        if not self.eval_every and self.eval_samples != TrainConfig.eval_samples:
            raise ValueError(f"eval_samples={self.eval_samples} applies with --eval-every only, which is 0 (never); "
                             "give --eval-every N, or leave --eval-samples out")
        for name, switch, flag in (("ada_interval", "ada_target", "--ada"), ("ada_kimg", "ada_target", "--ada"),
                                   ("r1_every", "r1_gamma", "--r1")):
            if not getattr(self, switch) and getattr(self, name) != getattr(TrainConfig, name):
                raise ValueError(f"{name}={getattr(self, name)} applies with {flag} only, which is off; give {flag}, "
                                 f"or leave --{name.replace('_', '-')} out")
        if self.channels == 3 and dataset_channels == 1:
            raise ValueError(f"{self.dataset} images are grayscale: --channels 3 would train on three identical copies "
                             "of each image; leave channels unset (1)")
        return TrainConfig(**{**asdict(self),
                              "loss": self.loss or spec.loss,
                              "nz": self.nz or spec.nz,
                              "channels": self.channels or dataset_channels,
                              "lr_g": self.lr_g or spec.lr_g,
                              "lr_d": self.lr_d or spec.lr_d})

    def for_data(self, num_images: int) -> tuple["TrainConfig", str | None]:
        """A copy with its unset (None) batch_size and diffaugment chosen for `num_images` training images (see
        SMALL_DATA), and the line that says what was chosen for small data and why (None when nothing was).
        --ada counts as a choice of augmentation: ADA applies its own (DiffAugment's transformations)."""
        small = num_images < SMALL_DATA
        chosen = {}
        if self.batch_size is None:
            chosen["batch_size"] = SMALL_BATCH if small else LARGE_BATCH
        if self.diffaugment is None:
            chosen["diffaugment"] = SMALL_DATA_AUGMENT if small and not self.ada_target else ""
        said = []
        if small and "batch_size" in chosen:
            said.append(f"batch size {SMALL_BATCH} ({num_images // SMALL_BATCH:,} steps an epoch; "
                        f"{LARGE_BATCH} would give {num_images // LARGE_BATCH:,})")
        if small and chosen.get("diffaugment"):
            said.append(f"DiffAugment {SMALL_DATA_AUGMENT} on every image D sees, so that D cannot memorise them")
        filled = TrainConfig(**{**asdict(self), **chosen})
        if not said:
            return filled, None
        options = " or ".join(f"--{name.replace('_', '-')}" for name in chosen)
        return filled, (f"{num_images:,} images is small data (under {SMALL_DATA:,}): {' and '.join(said)}, which "
                        "trained DCGAN-64 best on 300- and 1,000-image folders (docs/training.md, \"Small datasets\"); "
                        f"give {options} to choose yourself")

    def generator_kwargs(self, classes: tuple[str, ...] = ()) -> dict:
        """Keywords of `build_generator(model, ...)` for the generator this (resolved) config trains.

        A conditional one also gets `conditional=True` and the class names of its data, `classes`.
        """
        widths = {"ngf": self.ngf} if self.ngf else {}
        upsample = {"upsample": self.upsample} if self.upsample else {}  # older checkpoints, and unset: transpose
        return {"nz": self.nz, "channels": self.channels, "noise": self.noise, **widths, **upsample, **self._size(),
                **self._labels(classes)}

    def discriminator_kwargs(self, classes: tuple[str, ...] = ()) -> dict:
        """Keywords of `build_discriminator(model, ...)` for the discriminator this (resolved) config trains."""
        widths = {"ndf": self.ndf} if self.ndf else {}
        return {"channels": self.channels, **widths, **self._size(), **self._labels(classes)}

    def _size(self) -> dict:
        return {"image_size": self.image_size} if self.image_size else {}

    def _labels(self, classes: tuple[str, ...]) -> dict:
        return {"conditional": True, "classes": list(classes)} if self.conditional else {}


def config_differences(saved: dict, current: TrainConfig) -> list[str]:
    """Fields (outside RESUMABLE_CHANGES) whose values differ, as 'name: saved -> current'.

    `saved` is read with `TrainConfig.from_dict`, so a field it lacks counts as its default.
    """
    before, now = asdict(TrainConfig.from_dict(saved)), asdict(current)
    return [f"{name}: {before[name]!r} -> {now[name]!r}" for name in now
            if name not in RESUMABLE_CHANGES and before[name] != now[name]]
