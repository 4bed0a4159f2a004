"""Bring your own recognizer: export ArcFace / AdaFace IResNet PyTorch checkpoints to an FRS model pack.

Build-time tooling. Importing this package (or ``frs.export.cli``) does not import torch; only running an
export does. The Lambda image never needs it.
"""
