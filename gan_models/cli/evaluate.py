"""`gan-models evaluate`: a generator's sample quality against the dataset's classifier."""
from pathlib import Path

import click

from gan_models.atomic import atomic_write, check_writable
from gan_models.cli.options import SEED, generator_source, source_options


@click.command("evaluate")
@source_options
@click.option("--onnx", "onnx_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="An exported ONNX generator (float32 or int8), run by onnxruntime, instead of --checkpoint/--hub.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding MNIST/raw, FashionMNIST/raw and Emoji64 [default: $GAN_MODELS_DATA, else ./data]; "
                   "for a folder run, the image folder [default: the checkpoint's --data-root].")
@click.option("--samples", type=int, default=10_000, show_default=True,
              help="Images per compared set; capped at the test split's size (MNIST: 2,000; emoji: 788).")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seeds the noise, the real subsets, KID's subsets and the bootstrap.")
@click.option("--features", type=click.Choice(["classifier", "inception", "general"]), default=None,
              help="Feature space of FD [interval], KID and precision/recall/density/coverage: the dataset's shipped "
                   "classifier (or --classifier's), pytorch-fid's InceptionV3 (standard FID; needs "
                   "gan-models[inception]) or the shipped general random-weights CNN [default: classifier where "
                   "there is one, else general].")
@click.option("--classifier", "classifier_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A classifier file from `gan-models train-classifier` (its classifiers.json beside it): class "
                   "numbers and classifier features for a folder.")
@click.option("--inception-weights", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --features inception: pytorch-fid's weights file (pt_inception-2015-12-05-6726825d.pth) "
                   "[default: pytorch-fid's own download, online].")
@click.option("--resamples", type=click.IntRange(10), default=200, show_default=True,
              help="Bootstrap resamples of FD's 95% interval; each costs two FDs, about 10 ms a resample in the "
                   "classifier's 128 features but seconds in Inception's 2,048 (lower it there).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None,
              help="Also write the whole report as JSON to this file ('-' for standard output).")
def evaluate_command(checkpoint: Path | None, hub: str | None, pretrained: bool, dataset: str | None,
                     conditional: bool, onnx_path: Path | None, data_root: Path | None, samples: int, seed: int,
                     features: str | None, classifier_path: Path | None, inception_weights: Path | None,
                     resamples: int, json_path: Path | None) -> None:
    """Measure a generator's sample quality against the dataset's test split, each number beside real images'.

    For a run trained on an image folder (--dataset folder), the reference is a fixed 20% of the folder held out
    (gan_models.quality.folder), in the general features unless --features inception or --classifier.

    FD with its 95% bootstrap interval, KID (mean and std over subsets), precision, recall, density and
    coverage (k = 3), in the classifier's features (or Inception's, --features inception); class coverage;
    the copy check (median distance of generated and of held-out real images to their nearest training image).
    Real training images scored the same way are printed beside each: the best a generator can hope for.
    A conditional generator is measured on images whose labels cycle through the classes, and also
    gets its class accuracy and intra-class Frechet distance, per class and averaged.
    """
    import json

    from gan_models.quality.metrics import MIN_SHARE, evaluate_generator

    if classifier_path is not None and not classifier_path.is_file():
        raise ValueError(f"--classifier {classifier_path}: no such file")
    if inception_weights is not None and features != "inception":
        raise ValueError("--inception-weights goes with --features inception")
    if json_path is not None and str(json_path) != "-":
        check_writable(json_path)  # before the minutes of measuring
    if onnx_path is not None:
        if checkpoint is not None or hub is not None or pretrained or conditional:
            raise ValueError("give one of --onnx FILE, --checkpoint CKPT or --hub NAME (--dataset may go with --onnx)")
        from gan_models.export.quality import OnnxGenerator

        generator = OnnxGenerator(onnx_path)
        dataset = dataset or _onnx_dataset(onnx_path)
        if dataset == "folder" and data_root is None:
            raise ValueError(f"{onnx_path} was trained on an image folder, which an ONNX file does not record: "
                             "give --data-root, the folder it was trained on")
        label = f"ONNX file {onnx_path}"
    else:
        # --dataset picks the shipped weights (with --pretrained) and the data compared with.
        source = generator_source(checkpoint, hub, pretrained, dataset if pretrained else None, conditional)
        generator, dataset = source.generator, dataset or source.dataset or "mnist"
        label = f"checkpoint {checkpoint}" if checkpoint else f"{hub} ({'pretrained' if pretrained else 'untrained'})"
        if dataset == "folder" and data_root is None and checkpoint is not None:
            data_root = _checkpoint_data_root(checkpoint)
    report = evaluate_generator(generator, dataset, data_root, n_samples=samples, seed=seed, features=features,
                                inception_weights=inception_weights, resamples=resamples, classifier=classifier_path)

    generated, real = report.generated, report.real
    click.echo(f"{label} on {report.dataset}: {report.samples:,} images per set, seed {report.seed}, "
               f"reference = {report.reference}"
               + (f"; classifier {report.classifier}, layer {report.feature_layer}" if report.classifier else ""))
    owner = report.dataset if report.dataset != "folder" else f"folder ({report.classifier})"
    space = {"classifier": f"the {owner} classifier's {report.feature_dims} features",
             "inception": f"Inception features (pytorch-fid InceptionV3, {report.feature_dims}; weights "
                          f"{report.feature_weights})",
             "general": f"general features ({report.feature_dims}; {report.feature_weights})"}[report.features]
    click.echo(f"FD [95% interval, {resamples} bootstrap resamples], KID, precision, recall, density and coverage "
               f"in {space}")
    click.echo(f"limits: {report.feature_limits}")
    mine, theirs = report.generated_distribution, report.real_distribution
    small = report.features == "general"
    target = "held-out part" if report.dataset == "folder" else "test split"
    fd_name = {"classifier": "Frechet distance", "inception": "Inception FID", "general": "general FD"}[report.features]
    rows = [("", "generated", "real (train split)"),
            (f"{fd_name} to {target} [95%]", _with_interval(mine, small), _with_interval(theirs, small)),
            ("KID (mean +- std over subsets)", f"{mine.kid:.4g} +- {mine.kid_std:.2g}",
             f"{theirs.kid:.4g} +- {theirs.kid_std:.2g}")]
    rows += [(f"{name} (k = 3)", f"{getattr(mine, name):.4f}", f"{getattr(theirs, name):.4f}")
             for name in ("precision", "recall", "density", "coverage")]
    if generated is not None:
        classes = len(generated.class_histogram)
        if report.features != "classifier":  # the classifier-feature FD, as the shipped records give it
            rows += [(f"Frechet distance to {target} (classifier)", f"{generated.frechet_distance:.3f}",
                      f"{real.frechet_distance:.3f}")]
        rows += [(f"classes with >= {MIN_SHARE:.0%} of images", f"{generated.classes_covered} / {classes}",
                  f"{real.classes_covered} / {classes}"),
                 ("KL(class shares || uniform)", f"{generated.kl_from_uniform:.4f}", f"{real.kl_from_uniform:.4f}"),
                 ("mean confidence (max softmax)", f"{generated.mean_confidence:.4f}", f"{real.mean_confidence:.4f}")]
        rows += [(f"  share predicted as {name}", f"{g:.1%}", f"{r:.1%}")
                 for name, g, r in zip(report.class_names, generated.class_histogram, real.class_histogram,
                                       strict=True)]
    copies = report.copy_check
    if copies is not None:  # the held-out column holds real test images, not train ones
        searched = (f"{copies.train_images:,}" if copies.train_images == copies.train_split_images
                    else f"{copies.train_images:,} sampled of {copies.train_split_images:,}")
        rows += [(f"copy check ({copies.images:,} vs {searched} train images)", "generated", "held-out real"),
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
        click.echo(f"{name:40s} {left:>28s} {right:>28s}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if json_path is not None:
        text = json.dumps(report.to_dict(), indent=2)
        if str(json_path) == "-":
            click.echo(text)
        else:
            with atomic_write(json_path) as tmp:
                tmp.write_text(text + "\n")
            click.echo(f"wrote {json_path}")


def _with_interval(quality, small: bool = False) -> str:
    """FD [low, high]; `small` for the general features' values (about 0.01 to 50): significant digits."""
    low, high = quality.frechet_interval
    if small:
        return f"{quality.frechet_distance:.4g} [{low:.3g}, {high:.3g}]"
    return f"{quality.frechet_distance:.3f} [{low:.2f}, {high:.2f}]"


def _checkpoint_data_root(checkpoint: Path) -> str:
    """The image folder a folder run was trained on, from its checkpoint's config."""
    from gan_models.training.checkpoint import load_checkpoint

    root = load_checkpoint(checkpoint)["config"].get("data_root")
    if not root:
        raise ValueError(f"{checkpoint} was trained on a folder but does not record it: give --data-root")
    return root


def _onnx_dataset(path: Path) -> str:
    """The dataset named in an exported file's metadata; ValueError when it says "unknown"."""
    from gan_models.export.onnx import read_metadata

    dataset = read_metadata(path).get("dataset", "unknown")
    if dataset == "unknown":
        raise ValueError(f"{path} does not name its dataset in its metadata: give --dataset")
    return dataset
