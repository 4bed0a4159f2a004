"""Open-set decision math: score calibration, operating points, decisions."""
