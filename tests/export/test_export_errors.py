"""Checkpoints that do not fit: clear errors naming what is wrong, exit code 2, nothing written."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import types
from pathlib import Path

import pytest
import torch

from frs.cli.main import main as frs_main
from frs.errors import FRSError
from frs.export.checkpoint import read_checkpoint
from frs.export.compat import check_keys
from frs.export.iresnet import build_backbone
from tests.export.support import (
    CliRun,
    ExportSession,
    lightning_checkpoint,
    randomised_backbone,
    run_export_cli,
)


def _export(checkpoint: Path, fmt: str, arch: str, models_dir: Path, name: str = "newpack") -> CliRun:
    return run_export_cli(
        [
            *("--arch", arch, "--checkpoint", str(checkpoint), "--format", fmt, "--name", name),
            *("--models-dir", str(models_dir)),
        ]
    )


def _error(run: CliRun) -> dict[str, str]:
    assert run.code == 2, run.stdout + run.stderr
    error: dict[str, str] = run.json["error"]
    return error


def test_missing_and_unexpected_keys_are_named(export_session: ExportSession, tmp_path: Path) -> None:
    state = dict(export_session.arcface.model.state_dict())
    del state["fc.bias"]
    state["extra.weight"] = torch.zeros(3)
    checkpoint = tmp_path / "broken.pt"
    torch.save(state, checkpoint)
    models_dir = tmp_path / "models"
    error = _error(_export(checkpoint, "arcface", "ir18", models_dir))
    assert error["code"] == "bad_request"
    assert "1 missing key(s): fc.bias" in error["message"]
    assert "1 unexpected key(s): extra.weight" in error["message"]
    assert not models_dir.exists() or not any(models_dir.iterdir())


def test_adaface_keys_outside_model_and_head_are_unexpected(
    export_session: ExportSession, tmp_path: Path
) -> None:
    checkpoint = lightning_checkpoint(export_session.adaface.model)
    checkpoint["state_dict"]["teacher.fc.weight"] = torch.zeros(2, 2)
    path = tmp_path / "with_teacher.ckpt"
    torch.save(checkpoint, path)
    error = _error(_export(path, "adaface", "ir18", tmp_path / "models"))
    assert "unexpected key(s): teacher.fc.weight" in error["message"]
    assert "missing" not in error["message"]


def test_long_key_lists_are_truncated_with_counts() -> None:
    expected = build_backbone("arcface", "ir18").state_dict()
    state = {k: v for k, v in expected.items() if not k.startswith("layer2.")}
    with pytest.raises(FRSError) as caught:
        check_keys(state, expected, "arcface ir18")
    message = caught.value.message
    missing = [k for k in expected if k.startswith("layer2.") and not k.endswith("num_batches_tracked")]
    assert f"{len(missing)} missing key(s)" in message
    assert f"... and {len(missing) - 8} more" in message
    assert message.count("layer2.") == 8


def test_wrong_shape_is_named() -> None:
    expected = build_backbone("adaface", "ir18").state_dict()
    state = dict(expected)
    state["output_layer.3.weight"] = torch.zeros(512, 512 * 14 * 14)  # a 224x224 AdaFace head
    with pytest.raises(FRSError) as caught:
        check_keys(state, expected, "AdaFace ir18")
    assert "output_layer.3.weight (512, 100352) (expected (512, 25088))" in caught.value.message


def test_wrong_arch_names_the_right_one_arcface(tmp_path: Path) -> None:
    checkpoint = tmp_path / "r34.pt"
    # Saved in half precision, as fp16 training can leave it: the arch is still read from the keys.
    torch.save({k: v.half() for k, v in build_backbone("arcface", "ir34").state_dict().items()}, checkpoint)
    error = _error(_export(checkpoint, "arcface", "ir18", tmp_path / "models"))
    assert "checkpoint is ir34, not ir18" in error["message"]
    assert "(3, 4, 6, 3)" in error["message"] and "use --arch ir34" in error["message"]


def test_wrong_arch_names_the_right_one_adaface(tmp_path: Path) -> None:
    checkpoint = tmp_path / "adaface_ir50.ckpt"
    torch.save(lightning_checkpoint(build_backbone("adaface", "ir50")), checkpoint)
    error = _error(_export(checkpoint, "adaface", "ir100", tmp_path / "models"))
    assert "checkpoint is ir50, not ir100" in error["message"]
    assert "(3, 4, 14, 3)" in error["message"] and "use --arch ir50" in error["message"]


def test_wrong_format_is_named(export_session: ExportSession, tmp_path: Path) -> None:
    error = _error(_export(export_session.arcface.checkpoint, "adaface", "ir18", tmp_path / "models"))
    assert "use --format arcface" in error["message"]
    error = _error(_export(export_session.adaface.checkpoint, "arcface", "ir18", tmp_path / "models"))
    assert "use --format adaface" in error["message"]


def test_existing_pack_is_not_overwritten_through_the_frs_cli(export_session: ExportSession) -> None:
    """Mounted as `frs models export`: the global --models-dir is honoured and existing packs are kept."""
    before = (export_session.models_dir / "myarc.json").read_bytes()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        # An unknown detector too: were --models-dir ignored, the export would stop before writing anything.
        code = frs_main(
            [
                *("--models-dir", str(export_session.models_dir), "models", "export", "--arch", "ir18"),
                *("--checkpoint", str(export_session.arcface.checkpoint), "--format", "arcface"),
                *("--name", "myarc", "--detector", "no-such-pack"),
            ]
        )
    assert code == 2
    assert json.loads(out.getvalue())["error"]["code"] == "conflict"
    assert (export_session.models_dir / "myarc.json").read_bytes() == before


def test_unknown_detector_pack_and_bad_names_are_refused(
    export_session: ExportSession, tmp_path: Path
) -> None:
    checkpoint = export_session.arcface.checkpoint
    run = run_export_cli(
        [
            *("--arch", "ir18", "--checkpoint", str(checkpoint), "--format", "arcface", "--name", "fresh"),
            *("--models-dir", str(tmp_path), "--detector", "no-such-pack"),
        ]
    )
    assert "no-such-pack" in _error(run)["message"]
    run = _export(checkpoint, "arcface", "ir18", tmp_path, name="../escape")
    assert "invalid pack name" in _error(run)["message"]
    run = _export(tmp_path / "absent.pt", "arcface", "ir18", tmp_path)
    assert _error(run)["code"] == "not_found"
    run = run_export_cli(
        [
            *("--arch", "ir18", "--checkpoint", str(checkpoint), "--format", "arcface", "--name", "open"),
            *("--models-dir", str(tmp_path), "--force"),
        ]
    )
    assert "cannot borrow its detector from itself" in _error(run)["message"]


class _Custom:
    """Stands for any class a checkpoint could name: loading it would mean running its code."""


def test_checkpoints_that_need_code_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickled_object.pt"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "callback": _Custom()}, path)
    with pytest.raises(FRSError) as caught:
        read_checkpoint(path)
    assert caught.value.code == "bad_request"
    assert "_Custom" in caught.value.message and "re-save the weights alone" in caught.value.message


def test_garbage_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "not_a_checkpoint.pt"
    path.write_bytes(b"\x00\x01 definitely not a pickle" * 10)
    with pytest.raises(FRSError) as caught:
        read_checkpoint(path)
    assert caught.value.code == "bad_request"


def test_lightning_attribute_dict_is_read_without_lightning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lightning pickles hyper-parameters as AttributeDict; they load as a plain dict, Lightning absent."""
    parsing = types.ModuleType("pytorch_lightning.utilities.parsing")

    class AttributeDict(dict):  # type: ignore[type-arg]
        pass

    AttributeDict.__module__, AttributeDict.__qualname__ = parsing.__name__, "AttributeDict"
    parsing.AttributeDict = AttributeDict  # type: ignore[attr-defined]
    for name in ("pytorch_lightning", "pytorch_lightning.utilities"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, parsing.__name__, parsing)
    path = tmp_path / "lightning.ckpt"
    torch.save(
        {"state_dict": {"model.w": torch.ones(2)}, "hyper_parameters": AttributeDict(arch="ir_50")}, path
    )
    monkeypatch.delitem(sys.modules, parsing.__name__)  # reading must not need the class

    loaded = read_checkpoint(path)
    assert type(loaded["hyper_parameters"]) is dict
    assert loaded["hyper_parameters"] == {"arch": "ir_50"}
    assert torch.equal(loaded["state_dict"]["model.w"], torch.ones(2))


def test_randomised_backbones_differ_per_seed() -> None:
    """Guards the fixtures: if seeds stopped mattering, the parity-failure test above would prove nothing."""
    a = randomised_backbone("arcface", seed=1).state_dict()
    b = randomised_backbone("arcface", seed=2).state_dict()
    assert not torch.equal(a["layer1.0.bn1.running_var"], b["layer1.0.bn1.running_var"])
