"""IResNet backbones in the two published module layouts, so their checkpoints load under their own key names.

* ``ArcFaceIResNet``: InsightFace arcface_torch ``iresnet`` (keys ``conv1.weight``, ``layer1.0.bn1.weight``,
  ``fc.weight``, ``features.running_mean`` ...).
* ``AdaFaceIResNet``: AdaFace ``net.Backbone`` in 'ir' mode (keys ``input_layer.0.weight``,
  ``body.0.res_layer.1.weight``, ``output_layer.3.weight`` ...).

Both compute the same kind of network (pre-activation residual units with BN-Conv-BN-PReLU-Conv-BN, four
stride-2 stages, BN-Dropout-Flatten-Linear-BN1d head) and both return the embedding *before* L2 normalisation
(AdaFace's own forward also returns the normalised vector and its norm; FRS normalises downstream and the norm
carries no information FRS uses). Only 112x112 inputs are supported: the head is a 7x7x512 linear layer.
"""

from __future__ import annotations

import torch
from torch import nn

from frs.export.spec import ARCH_BLOCKS, INPUT_SIZE

STAGE_CHANNELS = (64, 128, 256, 512)
FEATURE_SIDE = INPUT_SIZE // 16  # four stride-2 stages: 112 -> 7


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)


class ArcFaceBlock(nn.Module):
    """arcface_torch ``IBasicBlock``: BN, conv3x3, BN, PReLU, conv3x3 (strided), BN, plus a shortcut."""

    def __init__(self, in_channels: int, channels: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels, eps=1e-5)
        self.conv1 = _conv3x3(in_channels, channels)
        self.bn2 = nn.BatchNorm2d(channels, eps=1e-5)
        self.prelu = nn.PReLU(channels)
        self.conv2 = _conv3x3(channels, channels, stride)
        self.bn3 = nn.BatchNorm2d(channels, eps=1e-5)
        self.downsample: nn.Sequential | None = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(channels, eps=1e-5),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        shortcut: torch.Tensor = x if self.downsample is None else self.downsample(x)
        return out + shortcut


class ArcFaceIResNet(nn.Module):
    """arcface_torch IResNet with ``blocks`` units per stage and a ``dim``-wide embedding."""

    def __init__(self, blocks: tuple[int, int, int, int], dim: int = 512) -> None:
        super().__init__()
        self.conv1 = _conv3x3(3, 64)
        self.bn1 = nn.BatchNorm2d(64, eps=1e-5)
        self.prelu = nn.PReLU(64)
        in_channels = 64
        stages: list[nn.Sequential] = []
        for channels, count in zip(STAGE_CHANNELS, blocks, strict=True):
            units = [ArcFaceBlock(in_channels, channels, 2)]
            units += [ArcFaceBlock(channels, channels, 1) for _ in range(count - 1)]
            stages.append(nn.Sequential(*units))
            in_channels = channels
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.bn2 = nn.BatchNorm2d(512, eps=1e-5)
        self.dropout = nn.Dropout(p=0.0)
        self.fc = nn.Linear(512 * FEATURE_SIDE * FEATURE_SIDE, dim)
        self.features = nn.BatchNorm1d(dim, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(torch.flatten(self.bn2(x), 1))
        out: torch.Tensor = self.features(self.fc(x))
        return out


class AdaFaceBlock(nn.Module):
    """AdaFace ``BasicBlockIR``: ``res_layer`` (BN, conv, BN, PReLU, strided conv, BN) + a shortcut."""

    def __init__(self, in_channels: int, channels: int, stride: int) -> None:
        super().__init__()
        # Same width: the shortcut only subsamples (a 1x1 max-pool with the block's stride has no weights).
        self.shortcut_layer: nn.Module = (
            nn.MaxPool2d(1, stride)
            if in_channels == channels
            else nn.Sequential(
                nn.Conv2d(in_channels, channels, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(channels),
            )
        )
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            _conv3x3(in_channels, channels),
            nn.BatchNorm2d(channels),
            nn.PReLU(channels),
            _conv3x3(channels, channels, stride),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.res_layer(x) + self.shortcut_layer(x)
        return out


class AdaFaceIResNet(nn.Module):
    """AdaFace ``Backbone(input_size=(112, 112), num_layers, mode='ir')``."""

    def __init__(self, blocks: tuple[int, int, int, int], dim: int = 512) -> None:
        super().__init__()
        self.input_layer = nn.Sequential(_conv3x3(3, 64), nn.BatchNorm2d(64), nn.PReLU(64))
        units: list[nn.Module] = []
        in_channels = 64
        for channels, count in zip(STAGE_CHANNELS, blocks, strict=True):
            units.append(AdaFaceBlock(in_channels, channels, 2))
            units += [AdaFaceBlock(channels, channels, 1) for _ in range(count - 1)]
            in_channels = channels
        self.body = nn.Sequential(*units)
        # Indices matter: they are the checkpoint's key names (output_layer.3 = Linear, .4 = BatchNorm1d).
        self.output_layer = nn.Sequential(
            nn.BatchNorm2d(512),
            nn.Dropout(0.4),
            nn.Flatten(),
            nn.Linear(512 * FEATURE_SIDE * FEATURE_SIDE, dim),
            nn.BatchNorm1d(dim, affine=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.output_layer(self.body(self.input_layer(x)))
        return out


def build_backbone(checkpoint_format: str, arch: str, dim: int = 512) -> nn.Module:
    """An untrained ``arch`` laid out as ``checkpoint_format`` ('arcface' or 'adaface'), in eval mode."""
    blocks = ARCH_BLOCKS[arch]
    model: nn.Module
    if checkpoint_format == "arcface":
        model = ArcFaceIResNet(blocks, dim)
    elif checkpoint_format == "adaface":
        model = AdaFaceIResNet(blocks, dim)
    else:
        raise ValueError(f"unknown checkpoint format {checkpoint_format!r}")
    return model.eval()
