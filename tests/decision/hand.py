"""A calibration small enough to compute by hand, shared by the decision tests."""

from __future__ import annotations

from frs.decision.calibration import Calibration
from frs.decision.curve import EACH_IDENTITY, ImpostorCurve, ImpostorTail

#: Median impostor score 0.0, 10% of pairs at or above 0.2, 1% at or above 0.3; above 0.3 an exponential tail
#: (shape 0) of scale 0.05, so FMR(t) = 0.01 exp(-(t - 0.3) / 0.05) for t >= 0.3.
HAND_CURVE = ImpostorCurve(
    population=EACH_IDENTITY,
    impostor_pairs=45,
    effective_pairs=45.0,
    impostor_mean=0.0,
    impostor_std=0.1,
    quantiles=((0.5, 0.0), (0.1, 0.2), (0.01, 0.3)),
    tail=ImpostorTail(threshold=0.3, rate=0.01, pairs=5, shape=0.0, scale=0.05),
)
HAND_CALIBRATION = Calibration(
    pack="test", dataset="hand", identities=10, faces=10, impostors=HAND_CURVE, genuine=None
)
