"""Indexing a photo archive: an S3 prefix (``<prefix>/<identity>/<photo>``) or a manifest CSV, enrolled in
batches through SQS by the function itself.

* :mod:`~frs.indexing.photos`: what to enrol (listing a prefix, reading a manifest) and reading one photo;
* :mod:`~frs.indexing.messages`: a batch of photos as one SQS message body;
* :mod:`~frs.indexing.jobs`: a job's state and per-batch results, stored under the job id;
* :mod:`~frs.indexing.submit`: ``frs index``: list, record the job, send the batches;
* :mod:`~frs.indexing.worker`: the SQS event handler: one gallery write per batch, per-photo outcomes;
* :mod:`~frs.indexing.report`: progress and the final report (counts, failures, time taken).
"""
