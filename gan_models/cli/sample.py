"""`gan-models sample`: images from a generator, as one PNG grid, one file per image, a .npy array, or walks."""
import sys
from pathlib import Path

import click

from gan_models.atomic import check_writable
from gan_models.cli.options import SEED, generator_source, source_options
from gan_models.noise import INTERPOLATIONS

# `sample` draws at most this many images into one PNG (100 x 100 digits: 3,002 x 3,002 pixels).
MAX_GRID_IMAGES = 10_000
OUT_SUFFIXES = (".png", ".npy", ".gif")


@click.command("sample")
@source_options
@click.option("-n", "n", type=click.IntRange(min=1), default=64, show_default=True, help="Number of images.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, show_default="samples.png",
              help=f"PNG file for the grid (at most {MAX_GRID_IMAGES:,} images); a .npy file: uint8 (n, C, H, W), "
              "written batch by batch, for any n; or, with --interpolate, an animated .gif.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for one file per image instead (000000.png, 000001.png, ...), for any n.")
@click.option("--format", "image_format", type=click.Choice(["png", "jpg"]), default="png", show_default=True,
              help="With --out-dir: the files' format.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the latent draw.")
@click.option("--truncation", type=float, default=None, metavar="PSI",
              help="Redraw latent components beyond PSI standard deviations (e.g. 0.7): fewer odd images, less "
                   "variety [default: none].")
@click.option("--nrow", type=click.IntRange(min=1), default=None, help="Images per grid row [default: ~sqrt(n)].")
@click.option("--interpolate", is_flag=True,
              help="Latent-space walks instead: n / F rows, each F frames (--frames) from one random latent to "
                   "another; or one walk through --seeds or a list of classes. A .gif --out animates them.")
@click.option("--frames", type=click.IntRange(min=2), default=8, show_default=True,
              help="With --interpolate: frames per walk (per leg, with --seeds or a list of classes).")
@click.option("--seeds", metavar="A,B,...",
              help="With --interpolate: one walk through the latents of these seeds (each the image "
                   "`G.sample(1, seed=A)`).")
@click.option("--interpolation", type=click.Choice(INTERPOLATIONS), default=None,
              help="With --interpolate: how z moves [default: slerp for normal noise, linear for uniform].")
@click.option("--no-ema", is_flag=True, help="Use a checkpoint's raw generator even when it has an EMA one.")
@click.option("--z", "z_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Latents (n, nz) from a .npy file (e.g. `gan-models project`'s .z.npy) instead of drawn ones: "
                   "the n images G(z), to a .png grid or a .npy --out.")
@click.option("--class", "which_class", metavar="CLASS",
              help="Conditional generators: a class name (Sneaker) or index (7), or 'all' for the n images in class "
                   "order (n = 8 K: a row of 8 per class) [default: classes in turn]; with --interpolate, a list "
                   "(3,8) walks from class to class.")
@click.pass_context
def sample_command(ctx, checkpoint, hub, pretrained, dataset, conditional, n, out, out_dir, image_format, seed,
                   truncation, nrow, interpolate, frames, seeds, interpolation, no_ema, z_path, which_class) -> None:
    """Draw images from a generator and save them as one PNG grid, one file per image, or a .npy array.

    Memory stays bounded for any -n: images are generated in batches and a .npy file (or --out-dir)
    is written batch by batch (e.g. -n 100000 --out samples.npy). A grid of more than 10,000 images
    is refused: it would be a picture too large to look at (100,000 digits: 9,512 x 9,512 pixels).
    The latents are drawn on the CPU, so a seed gives the same images on every device.
    """
    import signal

    from gan_models.noise import check_truncation

    if out is not None and out_dir is not None:
        raise ValueError("give --out FILE or --out-dir DIR, not both")
    if out_dir is None:
        out = check_writable(Path("samples.png") if out is None else out)
        if out.suffix.lower() not in OUT_SUFFIXES:
            raise ValueError(f"--out {out} must end in .png (a grid), .npy (a uint8 array) or .gif (an animated walk)")
    else:
        check_writable(out_dir / f"000000.{image_format}")
    if truncation is not None:
        try:
            check_truncation(truncation)
        except ValueError:
            raise ValueError(f"--truncation must be a finite number > 0 (standard deviations), got {truncation}") \
                from None
    walk_list = seeds is not None or (which_class is not None and "," in which_class)
    if z_path is not None:
        _check_latent_options(ctx, out, interpolate, truncation, seeds)
    _check_combinations(ctx, n, out, out_dir, interpolate, frames, seeds, which_class, walk_list)
    # SIGTERM (kill, a scheduler's timeout) ends the command like Ctrl-C: the unfinished file is removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if n > MAX_GRID_IMAGES and out_dir is None and out.suffix.lower() != ".npy":
        raise ValueError(f"-n {n:,} is too many images for one PNG grid (at most {MAX_GRID_IMAGES:,}); "
                         f"write them to a .npy file or a folder instead: --out {out.with_suffix('.npy')} or --out-dir")
    generator = generator_source(checkpoint, hub, pretrained, dataset, conditional, use_ema=not no_ema).generator
    if z_path is not None:
        _from_latents(generator, z_path, out, nrow, which_class)
    elif interpolate:
        _walks(generator, n, out, nrow, frames, seed, truncation, interpolation, which_class,
               _seed_list(seeds) if seeds is not None else None, walk_list)
    else:
        _samples(generator, n, out, out_dir, image_format, seed, truncation, nrow, which_class)


def _check_combinations(ctx, n, out, out_dir, interpolate, frames, seeds, which_class, walk_list) -> None:
    """ValueError for options that do not go together, before the generator is loaded."""
    from click.core import ParameterSource

    if not interpolate:
        if seeds is not None or walk_list:
            raise ValueError("--seeds and a list of classes are stops of a walk: add --interpolate")
        if ctx.get_parameter_source("frames") == ParameterSource.COMMANDLINE:
            raise ValueError("--frames goes with --interpolate")
        if out is not None and out.suffix.lower() == ".gif":
            raise ValueError(f"--out {out}: a .gif is an animated walk; add --interpolate, or write a .png grid")
        return
    if out_dir is not None or out.suffix.lower() == ".npy":
        raise ValueError("--interpolate draws a PNG grid or an animated GIF; give --out a .png or .gif file")
    if walk_list and ctx.get_parameter_source("n") == ParameterSource.COMMANDLINE:
        raise ValueError("-n does not apply to a walk through --seeds or a list of classes: it has "
                         "(stops - 1) * (frames - 1) + 1 images; set --frames")
    if not walk_list and n % frames:
        raise ValueError(f"--interpolate draws walks of {frames} frames, one per row: give -n a multiple of "
                         f"{frames}, got {n}")
    if which_class is not None and which_class.lower() == "all" and walk_list:
        raise ValueError("--class all and --seeds do not go together; list the classes to walk through: --class 3,8")


def _check_latent_options(ctx, out, interpolate, truncation, seeds) -> None:
    """ValueError for options that do not go with --z (its latents are given, not drawn)."""
    from click.core import ParameterSource

    if interpolate or truncation is not None or seeds is not None or out is None or out.suffix.lower() == ".gif":
        raise ValueError("--z draws the images of the given latents to a .png grid or a .npy --out; it does not go "
                         "with --interpolate, --truncation, --seeds or --out-dir")
    if ctx.get_parameter_source("n") == ParameterSource.COMMANDLINE or \
            ctx.get_parameter_source("seed") == ParameterSource.COMMANDLINE:
        raise ValueError("-n and --seed do not apply with --z: the file's latents set the images")


def _from_latents(generator, z_path: Path, out: Path, nrow, which_class) -> None:
    """Write G(z) for the latents (n, nz) of a .npy file as a grid or a uint8 (n, C, H, W) .npy array."""
    import math

    import numpy as np
    import torch

    from gan_models.atomic import atomic_write
    from gan_models.data import to_uint8
    from gan_models.images import save_grid
    from gan_models.nets.base import eval_mode
    from gan_models.sampling import class_labels

    try:
        z = np.load(z_path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise ValueError(f"--z {z_path} is not a .npy array ({' '.join(str(err).split())})") from None
    z = z[None] if z.ndim == 1 else z
    if z.ndim != 2 or z.shape[1] != generator.nz or not np.issubdtype(z.dtype, np.floating) or \
            not np.isfinite(z).all() or not len(z):
        raise ValueError(f"--z {z_path} must hold finite float latents (n, {generator.nz}) for this generator, got "
                         f"{z.dtype} {z.shape}")
    z = torch.from_numpy(z.astype(np.float32))
    if generator.num_classes and which_class is None:
        raise ValueError("this generator is conditional: give --class with --z (one class, or 'all')")
    labels = None if which_class is None else class_labels(generator, which_class, len(z))
    weight = next(generator.parameters())
    with torch.no_grad(), eval_mode(generator):
        images = torch.cat([(generator(batch.to(weight.device, weight.dtype)) if labels is None else
                             generator(batch.to(weight.device, weight.dtype), labels[start:start + 256].to(
                                 weight.device))).float().cpu()
                            for start, batch in zip(range(0, len(z), 256), z.split(256), strict=True)])
    if out.suffix.lower() == ".npy":
        with atomic_write(out) as tmp, open(tmp, "wb") as file:
            np.save(file, to_uint8(images).numpy())
    else:
        save_grid(images, out, nrow=nrow or math.ceil(math.sqrt(len(images))))
    click.echo(f"wrote {len(images)} images {tuple(images.shape[1:])} of the latents in {z_path} to {out}")


def _seed_list(seeds: str) -> list[int]:
    """--seeds "3,7,12" as [3, 7, 12]; ValueError naming the bad entry."""
    from gan_models.noise import MAX_SEED

    values = []
    for entry in seeds.split(","):
        if not entry.strip().isdigit() or int(entry) > MAX_SEED:
            raise ValueError(f"--seeds {seeds}: {entry.strip()!r} is not a seed (an integer 0 to {MAX_SEED})")
        values.append(int(entry))
    return values


def _samples(generator, n, out, out_dir, image_format, seed, truncation, nrow, which_class) -> None:
    """Write n samples as a grid, a .npy array or one file each in out_dir."""
    import math

    from gan_models.images import save_grid, save_images
    from gan_models.sampling import class_labels, generate, generate_batches, save_npy

    labels = None if which_class is None else class_labels(generator, which_class, n)
    if out_dir is not None:
        start = 0
        for batch in generate_batches(generator, n, seed=seed, labels=labels, truncation=truncation):
            save_images(batch, out_dir, format=image_format, start=start)
            start += len(batch)
        click.echo(f"wrote {n} images {tuple(generator.image_shape)} as {image_format.upper()} files to {out_dir}")
        return
    if out.suffix.lower() == ".npy":
        path = save_npy(generator, n, out, seed=seed, labels=labels, truncation=truncation)
        click.echo(f"wrote {n} images {tuple(generator.image_shape)} as uint8 (n, C, H, W) to {path}")
        return
    images = generate(generator, n, seed=seed, labels=labels, truncation=truncation)
    if nrow is None:  # one row per class for --class all, when the classes fill whole rows
        per_class = n // generator.num_classes if which_class is not None and which_class.lower() == "all" else 0
        nrow = per_class if per_class and n % generator.num_classes == 0 else math.ceil(math.sqrt(n))
    path = save_grid(images, out, nrow=nrow)
    click.echo(f"wrote {len(images)} images {tuple(images.shape[1:])} to {path}")


def _walks(generator, n, out, nrow, frames, seed, truncation, interpolation, which_class, seeds, walk_list) -> None:
    """Write latent walks as a grid (one walk per row) or an animated GIF; random pairs, or one walk through stops."""
    import math

    import torch

    from gan_models.images import image_grid, save_gif, save_grid
    from gan_models.sampling import class_labels, latent_walks, walk

    gif = out.suffix.lower() == ".gif"
    if walk_list:
        if generator.num_classes and which_class is None:
            raise ValueError("a conditional generator walks within a class: add --class (one, or one per seed)")
        stops = None if which_class is None else torch.cat([class_labels(generator, name, 1)
                                                            for name in which_class.split(",")])
        images = walk(generator, seeds or [seed], stops, frames=frames, method=interpolation, truncation=truncation)
        path = save_gif(images, out) if gif else save_grid(images, out, nrow=nrow or math.ceil(math.sqrt(len(images))))
        click.echo(f"wrote a walk of {len(images)} images {tuple(images.shape[1:])} to {path}")
        return
    walks = n // frames
    labels = None if which_class is None else class_labels(generator, which_class, walks)
    images = latent_walks(generator, walks=walks, frames=frames, seed=seed, labels=labels, method=interpolation,
                          truncation=truncation)
    if gif:  # frame t of the animation: every walk's frame t, tiled
        steps = images.reshape(walks, frames, *images.shape[1:]).transpose(0, 1)
        cells = nrow or math.ceil(math.sqrt(walks))
        path = save_gif(torch.stack([image_grid(step, nrow=cells) for step in steps]), out)
    else:
        path = save_grid(images, out, nrow=frames)
    click.echo(f"wrote {walks} walk{'s' * (walks != 1)} of {frames} frames {tuple(images.shape[1:])} to {path}")

