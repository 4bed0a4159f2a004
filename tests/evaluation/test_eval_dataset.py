"""Dataset tree scanning and pairs CSV validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from frs.errors import FRSError
from frs.evaluation.dataset import read_pairs, scan_dataset


def _touch(root: Path, *relative: str) -> None:
    for name in relative:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")  # embed is injected in these tests, so content never matters


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    _touch(
        tmp_path,
        "alice/a3.JPG",
        "alice/a1.jpg",
        "alice/a2.png",
        "alice/notes.txt",
        "alice/.hidden.jpg",
        "bob/b2.webp",
        "bob/b1.jpeg",
        "carol/c1.bmp",
        "dave/d1.jpg",
        "dave/d2.jpg",
        "loose.jpg",
        ".cache/x.jpg",
    )
    (tmp_path / "empty").mkdir()
    return tmp_path


def test_scan_finds_images_by_suffix_sorted_by_name(tree):
    found = scan_dataset(tree)
    assert list(found) == ["alice", "bob", "carol", "dave"]
    assert [p.name for p in found["alice"]] == ["a1.jpg", "a2.png", "a3.JPG"]
    assert [p.name for p in found["bob"]] == ["b1.jpeg", "b2.webp"]


def test_scan_rejects_missing_or_empty_dataset(tmp_path):
    with pytest.raises(FRSError, match="not found"):
        scan_dataset(tmp_path / "nope")
    _touch(tmp_path, "someone/readme.txt")
    with pytest.raises(FRSError, match="no images"):
        scan_dataset(tmp_path)


# ----------------------------------------------------------------------------------------------------- pairs


@pytest.fixture
def pair_dir(tmp_path: Path) -> Path:
    _touch(tmp_path, "imgs/x1.jpg", "imgs/x2.jpg", "imgs/y1.jpg")
    return tmp_path


def _csv(folder: Path, text: str, name: str = "pairs.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_pairs_resolves_paths_and_truth_values(pair_dir):
    absolute = pair_dir / "imgs/y1.jpg"
    path = _csv(
        pair_dir,
        "\ufeffa,b,same,comment\n"
        "imgs/x1.jpg,imgs/x2.jpg,1,first\n"
        "\n"
        f"imgs/x1.jpg,{absolute},False,\n"
        " imgs/x2.jpg , imgs/y1.jpg , different ,\n"
        "imgs/x2.jpg,imgs/x1.jpg,YES,\n",
    )
    pairs = read_pairs(path)
    assert [p.same for p in pairs] == [True, False, False, True]
    assert pairs[0].a == pair_dir / "imgs/x1.jpg"
    assert pairs[1].b == absolute
    assert pairs[2].b == pair_dir / "imgs/y1.jpg"
    assert [p.line for p in pairs] == [2, 4, 5, 6]
    assert all(p.fold is None for p in pairs)


def test_read_pairs_reads_an_optional_fold_column(pair_dir):
    text = "a,b,same,fold\nimgs/x1.jpg,imgs/x2.jpg,1, 3 \nimgs/x1.jpg,imgs/y1.jpg,0,7\n"
    pairs = read_pairs(_csv(pair_dir, text))
    assert [p.fold for p in pairs] == ["3", "7"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\nimgs/x1.jpg,imgs/x2.jpg\n", "missing column.*same"),
        ("", "missing column.*a, b, same"),
        ("a,b,same\n", "no pairs"),
        ("a,b,same\nimgs/x1.jpg,imgs/x2.jpg,maybe\n", "line 2: 'same' must be"),
        (
            "a,b,same\nimgs/x1.jpg,imgs/x2.jpg,1\nimgs/x1.jpg,imgs/zz.jpg,0\n",
            "line 3: image 'imgs/zz.jpg' not found",
        ),
        ("a,b,same\nimgs/x1.jpg,,1\n", "line 2: column 'b' is empty"),
        ("a,b,same\nimgs/x1.jpg,imgs/x2.jpg\n", "line 2: expected 3 fields"),
        ("a,b,same\nimgs/x1.jpg,imgs/x2.jpg,1,extra\n", "line 2: expected 3 fields"),
        ("a,b,same,fold\nimgs/x1.jpg,imgs/x2.jpg,1,\n", "line 2: column 'fold' is empty"),
        ("a,b,same,fold\nimgs/x1.jpg,imgs/x2.jpg,1\n", "line 2: expected 4 fields"),
    ],
)
def test_read_pairs_reports_problems_clearly(pair_dir, text, message):
    with pytest.raises(FRSError, match=message) as caught:
        read_pairs(_csv(pair_dir, text))
    assert caught.value.code == "bad_request"


def test_read_pairs_rejects_missing_and_binary_files(pair_dir):
    with pytest.raises(FRSError, match="not found"):
        read_pairs(pair_dir / "absent.csv")
    binary = pair_dir / "binary.csv"
    binary.write_bytes(b"a,b,same\n\xff\xfe\x00bad\n")
    with pytest.raises(FRSError, match="not UTF-8"):
        read_pairs(binary)
