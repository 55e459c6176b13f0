"""The `gan-models` command line: models, demo, train, sample, export, validate, evaluate.

One module per command (gan_models/cli/<command>.py); options shared by several are in
`options.py`. Errors a person can fix (bad values, missing files, corrupt checkpoints) print one
line and exit non-zero; set GAN_MODELS_DEBUG=1 to see the full traceback instead. Warnings are one
line each too ("warning: ...").

Nothing here imports torch, onnx or onnxruntime until a command runs, so `gan-models --help`
and `gan-models <command> --help` answer at once; `python -m gan_models.cli` runs the same
group (torchrun starts each process that way).
"""
import os
import warnings

import click

from gan_models import __version__
from gan_models.cli.demo import demo_command
from gan_models.cli.evaluate import evaluate_command
from gan_models.cli.exporting import export_command, validate_command
from gan_models.cli.models import models_command
from gan_models.cli.project import project_command
from gan_models.cli.sample import sample_command
from gan_models.cli.train import train_command
from gan_models.cli.train_classifier import train_classifier_command

# Exceptions that describe a problem with the user's input or files, not a bug in gan-models.
USER_ERRORS = (ValueError, TypeError, OSError, RuntimeError)


def _plain_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Show a warning as one line, "warning: ...", without Python's category, file and source line."""
    click.echo(f"warning: {message}", err=True)


class _FriendlyGroup(click.Group):
    """A click group that turns user errors into one line ('Error: ...') and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            with warnings.catch_warnings():  # restores the default display after the command
                warnings.showwarning = _plain_warning
                return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # click's own exits and messages (Exit subclasses RuntimeError)
        except USER_ERRORS as err:
            if os.environ.get("GAN_MODELS_DEBUG"):
                raise
            raise click.ClickException(" ".join(str(err).split()) or type(err).__name__) from None


@click.group(cls=_FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gan-models")
def main() -> None:
    """Train GANs (FC-GAN, LSGAN, DCGAN), sample them, export generators to validated ONNX."""


for command in (models_command, demo_command, train_command, sample_command, export_command, validate_command,
                evaluate_command, train_classifier_command):
    main.add_command(command)
main.add_command(project_command)
