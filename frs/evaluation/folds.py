"""LFW-style k-fold verification: pair lists in folds disjoint by person, and accuracy with the threshold
chosen on the other folds.

LFW's View 2 protocol: 10 folds of 300 genuine + 300 impostor pairs, no person in two folds; for each fold
the threshold that maximises accuracy on the other nine is applied to it, and the accuracy is reported as
the mean and standard deviation over the ten folds. :func:`make_fold_pairs` builds such a list from an
identity-per-folder dataset, reproducibly from a seed; :func:`kfold_accuracy` scores one.

Genuine pairs are taken round-robin over a fold's people (one new pair per person per round), so people with
hundreds of photos do not make up most of a fold; impostor pairs join two different people of the same fold
(people with a single photo included) with one random photo each.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.errors import FRSError

DEFAULT_FOLDS = 10
DEFAULT_PAIRS_PER_FOLD = 300  # genuine, and as many impostor


@dataclass(frozen=True)
class FoldPair:
    a: str  # a photo, as the dataset names it (relative path)
    b: str
    same: bool
    fold: int  # 0-based


def _deal(people: Sequence[str], folds: int) -> list[list[str]]:
    """Deal people into folds in a snake order (0..k-1, k-1..0, ...), so sorted input spreads evenly."""
    dealt: list[list[str]] = [[] for _ in range(folds)]
    for index, person in enumerate(people):
        lap, seat = divmod(index, folds)
        dealt[seat if lap % 2 == 0 else folds - 1 - seat].append(person)
    return dealt


def _genuine(
    photos: Mapping[str, Sequence[str]], people: Sequence[str], wanted: int, rng: random.Random
) -> list[tuple[str, str]]:
    """``wanted`` distinct same-person pairs, one new pair per person per round."""
    queues = []
    for person in people:
        pairs = list(combinations(photos[person], 2))
        rng.shuffle(pairs)
        queues.append(pairs)
    chosen: list[tuple[str, str]] = []
    depth = 0
    while len(chosen) < wanted and any(depth < len(queue) for queue in queues):
        for queue in queues:
            if depth < len(queue) and len(chosen) < wanted:
                chosen.append(queue[depth])
        depth += 1
    return chosen


def _impostor(
    photos: Mapping[str, Sequence[str]], people: Sequence[str], wanted: int, rng: random.Random
) -> list[tuple[str, str]]:
    """``wanted`` distinct pairs of two different people of ``people``, a random photo of each."""
    possible = math.comb(sum(len(photos[p]) for p in people), 2) - sum(
        math.comb(len(photos[p]), 2) for p in people
    )
    wanted = min(wanted, possible)
    chosen: set[tuple[str, str]] = set()
    while len(chosen) < wanted:
        first, second = rng.sample(list(people), 2)
        a, b = sorted((rng.choice(photos[first]), rng.choice(photos[second])))
        chosen.add((a, b))
    return sorted(chosen)


def make_fold_pairs(
    photos: Mapping[str, Sequence[str]],
    *,
    folds: int = DEFAULT_FOLDS,
    pairs_per_fold: int = DEFAULT_PAIRS_PER_FOLD,
    seed: int = 0,
) -> list[FoldPair]:
    """Pairs in ``folds`` folds disjoint by person: up to ``pairs_per_fold`` genuine and as many impostor
    pairs each. ``photos`` maps a person to their photos; the same input and seed give the same list."""
    if folds < 2:
        raise FRSError("bad_request", f"k-fold verification needs at least 2 folds, got {folds}")
    rng = random.Random(seed)
    names = sorted(photos)
    several = sorted((p for p in names if len(photos[p]) >= 2), key=lambda p: (-len(photos[p]), p))
    single = [p for p in names if len(photos[p]) == 1]
    if len(several) < folds:
        raise FRSError(
            "bad_request", f"{folds} folds need {folds} people with two or more photos, have {len(several)}"
        )
    rng.shuffle(single)
    # Sorted by photo count before dealing, so every fold gets its share of people with many photos.
    with_pairs = _deal(several, folds)
    singles = _deal(single, folds)
    result: list[FoldPair] = []
    for fold in range(folds):
        ordered = {p: sorted(photos[p]) for p in with_pairs[fold] + singles[fold]}
        people = sorted(ordered)
        genuine = _genuine(ordered, sorted(with_pairs[fold]), pairs_per_fold, rng)
        impostor = _impostor(ordered, people, pairs_per_fold, rng)
        result += [FoldPair(a, b, True, fold) for a, b in genuine]
        result += [FoldPair(a, b, False, fold) for a, b in impostor]
    return result


# ----------------------------------------------------------------------------------------------- accuracy


def _best_threshold(scores: npt.NDArray[np.float64], same: npt.NDArray[np.bool_]) -> float:
    """The threshold (accept ``>=``) with the highest accuracy on these pairs: midway between neighbouring
    distinct scores, the lowest of equally good ones."""
    finite = np.unique(scores[np.isfinite(scores)])
    if finite.size == 0:
        return math.inf
    candidates = np.concatenate([[finite[0] - 1.0], (finite[1:] + finite[:-1]) / 2, [finite[-1] + 1.0]])
    order = np.argsort(scores, kind="stable")
    ranked, truth = scores[order], same[order]
    below = np.searchsorted(ranked, candidates, side="left")  # pairs rejected at each candidate
    genuine_below = np.concatenate([[0], np.cumsum(truth)])[below]
    impostor_below = below - genuine_below
    correct = impostor_below + (truth.sum() - genuine_below)
    return float(candidates[int(np.argmax(correct))])


@dataclass(frozen=True)
class KFoldAccuracy:
    accuracies: tuple[float, ...]  # per fold, at the threshold chosen on the other folds
    thresholds: tuple[float, ...]
    pairs: tuple[int, ...]  # per fold
    failed_pairs: int  # pairs with a photo that gave no face (scored as rejected)

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float:
        """Population standard deviation over the folds (as LFW results are usually quoted)."""
        return float(np.std(self.accuracies))

    def to_dict(self) -> dict[str, Any]:
        return {
            "folds": len(self.accuracies),
            "mean": self.mean,
            "std": self.std,
            "accuracies": list(self.accuracies),
            "thresholds": list(self.thresholds),
            "pairs_per_fold": list(self.pairs),
            "failed_pairs": self.failed_pairs,
        }


def kfold_accuracy(scores: npt.ArrayLike, same: npt.ArrayLike, folds: npt.ArrayLike) -> KFoldAccuracy | None:
    """Accuracy per fold at the threshold that maximises accuracy on every other fold. A score of ``-inf``
    (a photo without a face) is a rejection. None when there are fewer than two folds."""
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    truth = np.asarray(same, dtype=bool).reshape(-1)
    labels = np.asarray(folds).reshape(-1)
    if not values.size == truth.size == labels.size:
        raise ValueError("scores, same and folds must have one entry per pair")
    names = sorted(set(labels.tolist()))
    if len(names) < 2:
        return None
    accuracies, thresholds, counts = [], [], []
    for name in names:
        test = labels == name
        threshold = _best_threshold(values[~test], truth[~test])
        accepted = values[test] >= threshold
        accuracies.append(float((accepted == truth[test]).mean()))
        thresholds.append(threshold)
        counts.append(int(test.sum()))
    return KFoldAccuracy(
        accuracies=tuple(accuracies),
        thresholds=tuple(thresholds),
        pairs=tuple(counts),
        failed_pairs=int(np.isneginf(values).sum()),
    )
