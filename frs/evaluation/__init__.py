"""Measured accuracy, and report.md.

Rooms: ``dataset`` (folder trees, pairs CSVs), ``protocol`` (the open-set draws), ``embeddings`` (one vector
per photo), ``systems`` and ``face_recognition_peer`` (what is measured: FRS with a pack, or a peer library),
``metrics``, ``open_set`` and ``rates`` (the arithmetic: ROC, FRVT FNIR/FPIR, Wilson intervals), ``runner`` (a
whole evaluation, eval.json), ``plots`` and ``artifacts`` (the files), ``machine`` (where and when a
measurement ran) and ``report`` (report.md from eval.json and bench.json).

Kept free of imports at package level so ``import frs`` stays cheap; import the submodules you need.
"""
