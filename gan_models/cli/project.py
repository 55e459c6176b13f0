"""`gan-models project`: the latent z whose generated image reproduces a user's image (GAN inversion)."""
from pathlib import Path

import click

from gan_models.cli.options import SEED, generator_source, source_options
from gan_models.projection import DEFAULT_FEATURE_WEIGHT, DEFAULT_LR, DEFAULT_RESTARTS, DEFAULT_STEPS


@click.command("project")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@source_options
@click.option("--class", "which_class", metavar="CLASS",
              help="Conditional generators: the image's class, a name (Sneaker) or index (7) [default: try every "
                   "class and keep the best].")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the files [default: the image's own folder].")
@click.option("--steps", type=click.IntRange(min=1), default=DEFAULT_STEPS, show_default=True, help="Adam steps.")
@click.option("--restarts", type=click.IntRange(min=1), default=DEFAULT_RESTARTS, show_default=True,
              help="Starting latents; the best result is kept.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_LR, show_default=True,
              help="Adam's learning rate on z.")
@click.option("--feature-weight", type=click.FloatRange(min=0), default=DEFAULT_FEATURE_WEIGHT, show_default=True,
              help="Weight of the classifier-feature distance beside the pixel MSE (0: pixels only).")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seeds the starting latents and the walk's random end.")
@click.option("--frames", type=click.IntRange(min=2), default=16, show_default=True,
              help="Frames of the walk from the projection to a random sample.")
@click.option("--no-ema", is_flag=True, help="Use a checkpoint's raw generator even when it has an EMA one.")
def project_command(image, checkpoint, hub, pretrained, dataset, conditional, which_class, out_dir, steps, restarts,
                    lr, feature_weight, seed, frames, no_ema) -> None:
    """Find the latent z whose image G(z) reproduces IMAGE, and write what it found beside IMAGE.

    Adam on z minimises the pixel MSE plus --feature-weight times the distance in the dataset classifier's
    features, from --restarts starting latents, keeping the best. Writes NAME.reconstruction.png (the
    image, then G(z)), NAME.z.npy (z, for `gan-models sample --z`) and NAME.walk.gif (from G(z) to a
    random sample). An image of another size is centre-cropped and resized, one of other channels converted,
    each with a note.
    """
    import numpy as np
    import torch

    from gan_models.atomic import atomic_write, check_writable
    from gan_models.data import to_unit_range
    from gan_models.images import save_gif, save_grid
    from gan_models.projection import feature_distance, project
    from gan_models.sampling import class_labels

    source = generator_source(checkpoint, hub, pretrained, dataset, conditional, use_ema=not no_ema)
    generator = source.generator
    if which_class is not None and not generator.num_classes:
        raise ValueError("--class needs a conditional generator; this one is unconditional")
    if which_class is not None and which_class.lower() == "all":
        raise ValueError("--class takes one class; leave it out to try every class")
    folder = image.parent if out_dir is None else out_dir
    paths = {kind: folder / f"{image.stem}.{kind}" for kind in ("reconstruction.png", "z.npy", "walk.gif")}
    for path in paths.values():
        check_writable(path)
    target = to_unit_range(read_image(image, generator.channels, generator.image_size))
    classifier = _classifier(source.dataset, generator)
    labels = None if which_class is None else class_labels(generator, which_class, 1)
    result = project(generator, target, labels=labels, classifier=classifier, steps=steps, restarts=restarts,
                     lr=lr, feature_weight=feature_weight if classifier is not None else 0, seed=seed)

    save_grid(torch.cat([target.unsqueeze(0), result.reconstruction]), paths["reconstruction.png"], nrow=2)
    with atomic_write(paths["z.npy"]) as tmp, open(tmp, "wb") as file:
        np.save(file, result.z.numpy())
    save_gif(_walk(generator, result.z, result.labels, frames, seed), paths["walk.gif"])

    mse = (result.reconstruction[0] - target).pow(2).mean().item()
    parts = [f"loss {result.loss.item():.4f}", f"pixel MSE {mse:.4f}"]
    if classifier is not None:
        distance = feature_distance(classifier, result.reconstruction, target.unsqueeze(0)).item()
        parts.append(f"feature distance {distance:.3f}")
    again = [f"--checkpoint {checkpoint}"] if checkpoint is not None else [f"--hub {hub}"]  # sample's options
    again += [option for option, given in (("--pretrained", pretrained), (f"--dataset {dataset}", dataset),
                                           ("--conditional", conditional)) if given]
    if result.labels is not None:
        name = generator.classes[int(result.labels[0])]
        parts.insert(0, f"class {name}" + (" (best of all classes)" if which_class is None else ""))
        again.append(f"--class {int(result.labels[0])}")
    click.echo(f"projected {image}: " + ", ".join(parts))
    click.echo(f"wrote {paths['reconstruction.png']} (image | reconstruction), {paths['z.npy']} and "
               f"{paths['walk.gif']}; the reconstruction again: gan-models sample "
               f"{' '.join(again)} --z {paths['z.npy']} --out FILE.png")


def read_image(path: Path, channels: int, size: int):
    """IMAGE as uint8 (channels, size, size): converted and centre-cropped/resized as needed, each said in a note.

    Raises ValueError naming `path` for a file that is not an image PIL can read.
    """
    from PIL import Image, UnidentifiedImageError

    from gan_models.image_decoding import decode_image

    try:
        with Image.open(path) as image:
            mode, width, height = image.mode, image.width, image.height
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as err:  # PIL raises SyntaxError for some broken files
        raise ValueError(f"{path} is not an image that can be read ({' '.join(str(err).split())})") from None
    gray = mode in ("1", "L", "LA", "I", "F") or mode.startswith("I;16")
    if gray != (channels == 1):
        click.echo(f"note: {path} is {'grayscale' if gray else 'colour'} ({mode}); converted to "
                   f"{'grayscale' if channels == 1 else 'RGB'} for this {channels}-channel generator", err=True)
    if (width, height) != (size, size):
        crop = " (centre crop)" if width != height else ""
        click.echo(f"note: {path} is {width} x {height}; resized to {size} x {size}{crop}", err=True)
    try:
        return decode_image(path, size, channels)
    except OSError as err:  # a header that opens but pixels that do not decode
        raise ValueError(f"{path} is not an image that can be read ({' '.join(str(err).split())})") from None


def _classifier(dataset: str | None, generator):
    """The shipped classifier of `dataset` when it judges this generator's images; else None (pixel loss only)."""
    from gan_models.quality.classifier import CLASSIFIERS, INPUT_SHAPES, load_classifier

    if dataset in CLASSIFIERS and INPUT_SHAPES[dataset] == generator.image_shape:
        return load_classifier(dataset)
    click.echo(f"note: no shipped classifier for {dataset or 'untrained weights'} at {generator.image_shape}; "
               "projecting on pixel MSE alone", err=True)
    return None


def _walk(generator, z, labels, frames: int, seed: int):
    """Frames (frames, C, H, W) from G(z) to the image of a random latent (drawn from `seed`), same class."""
    import torch

    from gan_models.nets.base import eval_mode
    from gan_models.noise import interpolate_latents, sample_noise

    end = sample_noise(1, generator.nz, generator.noise, generator=torch.Generator().manual_seed(seed))
    path = interpolate_latents(z, end, frames, generator.noise)[0]  # (frames, nz)
    weight = next(generator.parameters())
    path = path.to(weight.device, weight.dtype)
    with torch.no_grad(), eval_mode(generator):
        images = generator(path) if labels is None else generator(path, labels.expand(frames).to(weight.device))
    return images.float().cpu()
