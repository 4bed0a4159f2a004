"""What the exporter supports, as plain data: architectures, checkpoint formats and their preprocessing.

Torch-free on purpose: the CLI builds its argument choices from here without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Residual blocks per stage (64, 128, 256, 512 channels) of each supported IResNet.
ARCH_BLOCKS: dict[str, tuple[int, int, int, int]] = {
    "ir18": (2, 2, 2, 2),
    "ir34": (3, 4, 6, 3),
    "ir50": (3, 4, 14, 3),
    "ir100": (3, 13, 30, 3),
}

#: Block layouts that exist in the wild but that this exporter does not build; named in error messages.
UNSUPPORTED_BLOCKS: dict[tuple[int, ...], str] = {
    (6, 26, 60, 6): "arcface_torch r200",
    (3, 8, 36, 3): "IR-152 (bottleneck blocks)",
    (3, 24, 36, 3): "IR-200 (bottleneck blocks)",
}


@dataclass(frozen=True)
class Preprocessing:
    """How the network wants its 112x112 aligned crop: (pixel - mean) / std per channel, ``color`` order."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    color: str  # "RGB" or "BGR"


@dataclass(frozen=True)
class CheckpointFormat:
    name: str
    title: str
    preprocessing: Preprocessing


FORMATS: dict[str, CheckpointFormat] = {
    # arcface_torch: RGB, (x - 127.5) / 127.5.
    "arcface": CheckpointFormat(
        "arcface", "InsightFace arcface_torch IResNet", Preprocessing((127.5,) * 3, (127.5,) * 3, "RGB")
    ),
    # AdaFace: BGR, ((x / 255) - 0.5) / 0.5, which is the same affine map as (x - 127.5) / 127.5.
    "adaface": CheckpointFormat(
        "adaface", "AdaFace IR (net.py Backbone)", Preprocessing((127.5,) * 3, (127.5,) * 3, "BGR")
    ),
}

INPUT_SIZE = 112  # both formats are trained on 112x112 ArcFace-aligned crops
OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "embedding"


def arch_for_blocks(blocks: tuple[int, ...]) -> str | None:
    """The supported arch with exactly these blocks per stage, if any."""
    for arch, layout in ARCH_BLOCKS.items():
        if layout == blocks:
            return arch
    return None
