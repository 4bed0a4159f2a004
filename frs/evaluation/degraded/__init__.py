"""Degraded copies of a dataset's photos (dark, low contrast, grayscale, noisy) and the open-set figures on
them: :mod:`.conditions` makes the copies, :mod:`.suite` measures faces found, FNIR and FPIR per condition."""
