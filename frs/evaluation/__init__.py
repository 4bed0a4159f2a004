"""Measured accuracy: metrics, dataset splits, the evaluation runner, plots and the markdown report.

Kept free of imports at package level so ``import frs`` stays cheap; import the submodules you need.
"""
