"""Run by tests/test_distributed.py under torchrun: train, then save this rank's generator weights."""
import os
import sys

import torch

from gan_models.training import distributed
from gan_models.training.trainer import TrainConfig, Trainer

out = sys.argv[1]
conditional = sys.argv[2:] == ["conditional"]  # the class-conditional networks on (image, label) batches
trainer = Trainer(TrainConfig(model="fcgan", nz=8, ngf=32, ndf=32, batch_size=32, epochs=2, max_images=512,
                              progress=False, device="cpu", conditional=conditional), out)
try:
    result = trainer.fit()
    torch.save(trainer.netG.state_dict(), os.path.join(out, f"rank{trainer.group.rank}.pt"))
    print(f"rank {trainer.group.rank} of {trainer.group.world_size}: {result.step} steps")
finally:  # as gan_models.training.trainer.train does: barrier, then destroy the group, before the interpreter exits
    distributed.shutdown(trainer.group)
