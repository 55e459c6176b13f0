"""`gan-models sample`: images from a generator, as one PNG grid or a .npy array."""
import sys
from pathlib import Path

import click

from gan_models.atomic import check_writable
from gan_models.cli.options import SEED, generator_source, source_options

# `sample` draws at most this many images into one PNG (100 x 100 digits: 3,002 x 3,002 pixels).
MAX_GRID_IMAGES = 10_000


@click.command("sample")
@source_options
@click.option("-n", "n", type=click.IntRange(min=1), default=64, show_default=True, help="Number of images.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("samples.png"),
              show_default=True, help=f"PNG file for the grid (at most {MAX_GRID_IMAGES:,} images), or a .npy "
              "file: uint8 (n, C, H, W), written batch by batch, for any n.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the latent draw.")
@click.option("--nrow", type=click.IntRange(min=1), default=None, help="Images per grid row [default: ~sqrt(n)].")
@click.option("--interpolate", is_flag=True,
              help="Latent-space walks instead: n / 8 rows, each 8 frames from one random latent to another.")
@click.option("--no-ema", is_flag=True, help="Use a checkpoint's raw generator even when it has an EMA one.")
@click.option("--class", "which_class", metavar="CLASS",
              help="Conditional generators: a class name (Sneaker) or index (7), or 'all' for one row of n // K "
                   "images per class [default: classes in turn].")
def sample_command(checkpoint, hub, pretrained, dataset, conditional, n, out, seed, nrow, interpolate, no_ema,
                   which_class) -> None:
    """Draw images from a generator and save them as one PNG grid, or as a .npy array.

    Memory stays bounded for any -n: images are generated in batches and a .npy file is written
    batch by batch (e.g. -n 100000 --out samples.npy). A grid of more than 10,000 images is
    refused: it would be a picture too large to look at (100,000 digits: 9,512 x 9,512 pixels).
    """
    import math
    import signal

    from gan_models.images import save_grid
    from gan_models.sampling import class_labels, generate, latent_walks, save_npy

    check_writable(out)
    if out.suffix.lower() not in (".png", ".npy"):
        raise ValueError(f"--out {out} must end in .png (a grid) or .npy (a uint8 array)")
    to_npy = out.suffix.lower() == ".npy"
    if interpolate and to_npy:
        raise ValueError("--interpolate draws a PNG grid; give --out a .png file")
    if interpolate and n % 8:
        raise ValueError(f"--interpolate draws walks of 8 frames, one per row: give -n a multiple of 8, got {n}")
    # SIGTERM (kill, a scheduler's timeout) ends the command like Ctrl-C: the unfinished file is removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if n > MAX_GRID_IMAGES and not to_npy:
        raise ValueError(f"-n {n:,} is too many images for one PNG grid (at most {MAX_GRID_IMAGES:,}); "
                         f"write them to a .npy file instead: --out {out.with_suffix('.npy')}")
    generator = generator_source(checkpoint, hub, pretrained, dataset, conditional, use_ema=not no_ema).generator
    labels = None if which_class is None else class_labels(generator, which_class, n // 8 if interpolate else n)
    if labels is not None and which_class.lower() == "all" and not interpolate:
        n, nrow = len(labels), nrow or len(labels) // generator.num_classes  # one row per class
    if to_npy:
        path = save_npy(generator, n, out, seed=seed, labels=labels)
        click.echo(f"wrote {n} images {tuple(generator.image_shape)} as uint8 (n, C, H, W) to {path}")
        return
    if interpolate:
        images, nrow = latent_walks(generator, walks=len(labels) if labels is not None else n // 8, frames=8,
                                    seed=seed, labels=labels), 8
    else:
        images = generate(generator, n, seed=seed, labels=labels)
        nrow = nrow or math.ceil(math.sqrt(n))
    path = save_grid(images, out, nrow=nrow)
    click.echo(f"wrote {len(images)} images {tuple(images.shape[1:])} to {path}")
