"""Standard Inception features for FID: pytorch-fid's InceptionV3, 2048 pool features, from the user's weights.

The project's own figures are in its classifiers' features, which ship with it and work offline.
Published FIDs are in the features of the TensorFlow Inception network that pytorch-fid ports
(`pt_inception-2015-12-05-6726825d.pth`). No wheel ships those weights, so this module takes them
from a local file the user names, or lets pytorch-fid fetch them into torch's hub cache when the
machine is online. pytorch-fid (`pip install gan-models[inception]`) supplies the network, so the
features equal its own.
"""
import os
from pathlib import Path
from unittest import mock

import torch
from torch import nn

from gan_models.errors import first_line

FEATURE_DIMS = 2048  # the final average pool, as FID uses
INCEPTION_PACKAGE = "pytorch-fid"


class InceptionFeatures(nn.Module):
    """Images (N, C, H, W) in [-1, 1], C = 1 or 3, any size -> FID features (N, 2048), float32.

    Images are first quantized to 8 bits, as FID on saved PNG files sees them; pytorch-fid then
    resizes them to 299 x 299 (bilinear) and scales them to the network's range. Grey images are
    repeated into three channels.
    """

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network.eval()

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        unit = torch.round((images.float().clamp(-1, 1) + 1) * 127.5) / 255  # in [0, 1], 256 levels
        if unit.shape[1] == 1:
            unit = unit.repeat(1, 3, 1, 1)
        return self.network(unit)[0].flatten(1)


def _pytorch_fid():
    try:
        import pytorch_fid.inception
    except ImportError as error:
        raise RuntimeError(f"Inception features need {INCEPTION_PACKAGE}: pip install 'gan-models[inception]'") \
            from error
    return pytorch_fid.inception


def load_inception(weights: str | os.PathLike | None = None) -> InceptionFeatures:
    """pytorch-fid's FID InceptionV3 with the weights in `weights` (a .pth state dict), or pytorch-fid's own download.

    Raises FileNotFoundError or ValueError, naming the file, when it is missing or holds other weights.
    """
    inception = _pytorch_fid()
    if weights is None:  # pytorch-fid's own path: torch's hub cache, downloading when online
        return InceptionFeatures(inception.InceptionV3([inception.InceptionV3.BLOCK_INDEX_BY_DIM[FEATURE_DIMS]]))
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: Inception weights not found (pytorch-fid's: {inception.FID_WEIGHTS_URL})")
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for files that are not a weights-only state dict
        raise ValueError(f"{path}: not a torch state dict of Inception weights ({type(error).__name__})") from error
    # pytorch-fid builds its network and then fetches the weights from its URL; hand it the local file instead
    try:
        with mock.patch.object(inception, "load_state_dict_from_url", lambda *args, **kwargs: state_dict):
            network = inception.InceptionV3([inception.InceptionV3.BLOCK_INDEX_BY_DIM[FEATURE_DIMS]])
    except RuntimeError as error:  # load_state_dict's missing or unexpected keys, or wrong shapes
        raise ValueError(f"{path}: not pytorch-fid's FID Inception weights ({first_line(error)})") from error
    return InceptionFeatures(network)
