"""Approximate search for large file galleries.

``manager`` (when, where and why it stays correct: read its docstring first), ``index`` (the USearch graph and
the ``.ann`` file), ``keys`` (stable face keys), ``matcher`` (the index proposes, the exact matrix decides).
"""
