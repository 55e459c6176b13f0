"""`gan-models evaluate`: a generator's sample quality against the dataset's classifier."""
from pathlib import Path

import click

from gan_models.atomic import atomic_write, check_writable
from gan_models.cli.options import SEED, generator_source, source_options


@click.command("evaluate")
@source_options
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding MNIST/raw, FashionMNIST/raw and Emoji64 [default: $GAN_MODELS_DATA, else ./data].")
@click.option("--samples", type=int, default=10_000, show_default=True,
              help="Images per compared set; capped at the test split's size (MNIST: 2,000; emoji: 788).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seeds the noise and the real subsets.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None,
              help="Also write the numbers as JSON to this file ('-' for standard output).")
def evaluate_command(checkpoint: Path | None, hub: str | None, pretrained: bool, dataset: str | None,
                     conditional: bool, data_root: Path | None, samples: int, seed: int,
                     json_path: Path | None) -> None:
    """Measure a generator's sample quality: classifier-feature Frechet distance and class coverage.

    Real training images scored the same way are printed beside it: the best a generator can hope for.
    A conditional generator is measured on images whose labels cycle through the classes, and also
    gets its class accuracy and intra-class Frechet distance, per class and averaged.
    For small training sets (MNIST, emoji) a copy check follows: the median distance of generated and of
    held-out real images to their nearest training image.
    """
    import json

    from gan_models.quality.metrics import MIN_SHARE, evaluate_generator

    if json_path is not None and str(json_path) != "-":
        check_writable(json_path)  # before the minutes of measuring
    # --dataset picks the shipped weights (with --pretrained) and the data compared with.
    source = generator_source(checkpoint, hub, pretrained, dataset if pretrained else None, conditional)
    generator, dataset = source.generator, dataset or source.dataset or "mnist"
    label = f"checkpoint {checkpoint}" if checkpoint else f"{hub} ({'pretrained' if pretrained else 'untrained'})"
    report = evaluate_generator(generator, dataset, data_root, n_samples=samples, seed=seed)

    generated, real, classes = report.generated, report.real, len(report.generated.class_histogram)
    click.echo(f"{label} on {report.dataset}: {report.samples:,} images per set, seed {report.seed}, "
               f"reference = {report.dataset} test split; classifier {report.classifier}, layer {report.feature_layer}")
    rows = [("", "generated", "real (train split)"),
            ("Frechet distance to test split", f"{generated.frechet_distance:.3f}", f"{real.frechet_distance:.3f}"),
            (f"classes with >= {MIN_SHARE:.0%} of images", f"{generated.classes_covered} / {classes}",
             f"{real.classes_covered} / {classes}"),
            ("KL(class shares || uniform)", f"{generated.kl_from_uniform:.4f}", f"{real.kl_from_uniform:.4f}"),
            ("mean confidence (max softmax)", f"{generated.mean_confidence:.4f}", f"{real.mean_confidence:.4f}")]
    rows += [(f"  share predicted as {name}", f"{g:.1%}", f"{r:.1%}")
             for name, g, r in zip(report.class_names, generated.class_histogram, real.class_histogram, strict=True)]
    copies = report.copy_check
    if copies is not None:  # the held-out column holds real test images, not train ones
        rows += [(f"copy check ({copies.images:,} vs {copies.train_images:,} train images)", "generated",
                  "held-out real"),
                 ("  median RMS to nearest train image", f"{copies.generated_median:.4f}",
                  f"{copies.held_out_median:.4f}")]
    if report.generated_classes is not None:  # a conditional generator, with labels drawn uniformly
        mine, theirs = report.generated_classes, report.real_classes
        rows += [("class accuracy (mean over classes)", f"{mine.class_accuracy:.1%}", f"{theirs.class_accuracy:.1%}"),
                 ("intra-class Frechet distance (mean)", f"{mine.intra_class_frechet_distance:.3f}",
                  f"{theirs.intra_class_frechet_distance:.3f}")]
        rows += [(f"  {k} {name[:14]}: accuracy / FD", f"{a:.1%} / {f:.1f}", f"{ra:.1%} / {rf:.1f}")
                 for k, (name, a, f, ra, rf) in enumerate(zip(
                     generator.classes, mine.per_class_accuracy, mine.per_class_frechet_distance,
                     theirs.per_class_accuracy, theirs.per_class_frechet_distance, strict=True))]
    for name, left, right in rows:
        click.echo(f"{name:40s} {left:>12s} {right:>20s}")
    if json_path is not None:
        text = json.dumps(report.to_dict(), indent=2)
        if str(json_path) == "-":
            click.echo(text)
        else:
            with atomic_write(json_path) as tmp:
                tmp.write_text(text + "\n")
            click.echo(f"wrote {json_path}")
