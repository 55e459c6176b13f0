"""`gan-models models`: the models and their defaults, from gan_models.specs (no torch)."""
import click

from gan_models.specs import MODELS


@click.command("models")
def models_command() -> None:
    """List the models, what each one is, and its training defaults."""
    for spec in MODELS.values():
        click.echo(f"{spec.name:8s} {spec.summary} [default loss: {spec.loss}, nz {spec.nz}, "
                   f"lr_g {spec.lr_g:g}, lr_d {spec.lr_d:g}]")
