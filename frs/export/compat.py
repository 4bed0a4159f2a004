"""Does a state dict fit the backbone the user asked for? Clear answers when it does not.

Checked in the order that gives the most useful message: the other checkpoint format, then the architecture
(blocks per stage read from the key names), then missing / unexpected keys, then tensor shapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import torch

from frs.errors import FRSError
from frs.export.spec import ARCH_BLOCKS, FORMATS, UNSUPPORTED_BLOCKS, arch_for_blocks

LISTED = 8  # names shown per list before "... and N more"

# Batch-norm step counters: absent from older checkpoints and unused in eval mode, so never a mismatch.
_IGNORED_SUFFIX = ".num_batches_tracked"

_ARCFACE_UNIT = re.compile(r"^layer([1-4])\.(\d+)\.")
_ADAFACE_UNIT = re.compile(r"^body\.(\d+)\.")
_ADAFACE_UNIT_CONV = re.compile(r"^body\.(\d+)\.res_layer\.1\.weight$")

# Keys only one format has: used to tell the user they picked the wrong --format.
_SIGNATURES = {"arcface": ("conv1.weight", "layer1.0.conv1.weight"), "adaface": ("input_layer.0.weight",)}


def listing(names: Iterable[str]) -> str:
    """``a, b, c`` with at most ``LISTED`` names, then ``... and N more``."""
    items = sorted(names)
    shown = ", ".join(items[:LISTED])
    return shown + (f" ... and {len(items) - LISTED} more" if len(items) > LISTED else "")


def blocks_per_stage(state: Mapping[str, torch.Tensor], checkpoint_format: str) -> tuple[int, ...] | None:
    """How many residual units each stage of the checkpoint has, read from its key names (None: no units)."""
    if checkpoint_format == "arcface":
        units: dict[int, set[int]] = {}
        for key in state:
            match = _ARCFACE_UNIT.match(key)
            if match:
                units.setdefault(int(match[1]), set()).add(int(match[2]))
        return tuple(len(units.get(stage, ())) for stage in (1, 2, 3, 4)) if units else None
    # AdaFace numbers its units 0..N-1 in one flat ``body``; a stage is a run of units of the same width.
    widths: dict[int, int] = {}
    for key, tensor in state.items():
        match = _ADAFACE_UNIT_CONV.match(key)
        if match and tensor.dim() >= 1:
            widths[int(match[1])] = int(tensor.shape[0])
    if not widths:
        return None
    counts: list[int] = []
    previous = None
    for index in sorted(widths):
        if widths[index] != previous:
            counts.append(0)
            previous = widths[index]
        counts[-1] += 1
    return tuple(counts)


def _has_any(state: Mapping[str, torch.Tensor], signature: tuple[str, ...]) -> bool:
    # Also under a wrapper's prefix (``model.``, ``module.``): the layout is what tells the formats apart.
    return any(key == name or key.endswith("." + name) for key in state for name in signature)


def check_format(state: Mapping[str, torch.Tensor], checkpoint_format: str) -> None:
    """Refuse a checkpoint whose keys are plainly laid out in the other format."""
    for other, signature in _SIGNATURES.items():
        if other != checkpoint_format and _has_any(state, signature):
            mine = _SIGNATURES[checkpoint_format]
            if not _has_any(state, mine):
                raise FRSError(
                    "bad_request",
                    f"checkpoint keys are laid out as {FORMATS[other].title} (e.g. {signature[0]!r}), "
                    f"not {FORMATS[checkpoint_format].title}: use --format {other}",
                )


def check_arch(state: Mapping[str, torch.Tensor], checkpoint_format: str, arch: str) -> None:
    """Refuse a checkpoint whose blocks per stage are not ``arch``'s, naming the arch that fits."""
    found = blocks_per_stage(state, checkpoint_format)
    if any(".se_block." in key for key in state):
        raise FRSError(
            "bad_request",
            f"checkpoint is an IR-SE network (blocks per stage {found}); only plain IR is supported",
        )
    if found is None or found == ARCH_BLOCKS[arch]:
        return
    described = f"blocks per stage {found}"
    fits = arch_for_blocks(found)
    if fits:
        raise FRSError(
            "bad_request",
            f"checkpoint is {fits}, not {arch}: its {described} are {fits}'s "
            f"(an {arch} has {ARCH_BLOCKS[arch]}); use --arch {fits}",
        )
    known = UNSUPPORTED_BLOCKS.get(found)
    supported = ", ".join(f"{name} {layout}" for name, layout in ARCH_BLOCKS.items())
    what = f"an {known}" if known else "no known IResNet"
    raise FRSError("bad_request", f"checkpoint has {described}, which is {what}; supported: {supported}")


def check_keys(
    state: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor], model_title: str
) -> None:
    """Refuse missing or unexpected keys (both listed), then tensors of the wrong shape."""
    wanted = {k for k in expected if not k.endswith(_IGNORED_SUFFIX)}
    given = {k for k in state if not k.endswith(_IGNORED_SUFFIX)}
    missing, unexpected = wanted - given, given - wanted
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s): {listing(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): {listing(unexpected)}")
        raise FRSError("bad_request", f"checkpoint does not match {model_title}: " + "; ".join(parts))
    wrong = [
        f"{key} {tuple(state[key].shape)} (expected {tuple(expected[key].shape)})"
        for key in sorted(wanted)
        if tuple(state[key].shape) != tuple(expected[key].shape)
    ]
    if wrong:
        raise FRSError(
            "bad_request",
            f"checkpoint does not match {model_title}: {len(wrong)} tensor(s) of the wrong shape: "
            + listing(wrong),
        )
