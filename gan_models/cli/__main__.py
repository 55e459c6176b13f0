"""`python -m gan_models.cli ...` (and `torchrun -m gan_models.cli train ...`, in each process) runs the CLI."""
from gan_models.cli import main

main()
