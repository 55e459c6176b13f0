"""`gan-models train-classifier`: a sample-quality classifier for a labelled image folder, for evaluate's class
numbers."""
from pathlib import Path

import click


@click.command("train-classifier")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Labelled image folder: one subfolder of images per class.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the classifier-folder-<hash>.pt file and its classifiers.json record.")
@click.option("--image-size", type=click.IntRange(8), default=64, show_default=True,
              help="Height and width the images are resized to: the generator's image size.")
@click.option("--channels", type=click.Choice(["1", "3"]), default="3", show_default=True,
              help="Image channels: the generator's.")
@click.option("--epochs", type=click.IntRange(1), default=10, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=128, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Adam learning rate.")
@click.option("--max-shift", type=click.IntRange(0), default=2, show_default=True,
              help="Random translation in pixels (0: none).")
@click.option("--flip", is_flag=True, help="Mirror half of each batch left to right.")
@click.option("--seed", type=int, default=0, show_default=True)
def train_classifier_command(data_root: Path, out: Path, image_size: int, channels: str, epochs: int,
                             batch_size: int, lr: float, max_shift: int, flip: bool, seed: int) -> None:
    """Train a classifier on a labelled folder's train part and test it on its held-out 20%.

    Then `gan-models evaluate --checkpoint RUN/checkpoint.pt --classifier OUT/classifier-folder-<hash>.pt` adds
    class coverage (and, for a conditional run, class accuracy) and can measure in its features.
    """
    from gan_models.quality.classifier_training import train_folder_classifier

    command = (f"gan-models train-classifier --data-root {data_root} --out {out} --image-size {image_size} "
               f"--channels {channels} --epochs {epochs} --batch-size {batch_size} --lr {lr} "
               f"--max-shift {max_shift}{' --flip' if flip else ''} --seed {seed}")
    record, path = train_folder_classifier(data_root, out, image_size=image_size, channels=int(channels),
                                           epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                                           max_shift=max_shift, flip=flip, command=command)
    click.echo(f"test accuracy {record.test_accuracy:.4f} on {record.test_images:,} held-out images of "
               f"{len(record.classes)} classes -> {path}")
