"""CCTV: camera frames and clips arrive in S3, every face is identified, results are kept, alerts go out.

Event flow: S3 event -> :mod:`events` (which objects) -> :mod:`keys` (camera, frame or clip, capture time) ->
:mod:`cameras` (gallery, minimum face, unknown alerts) -> :mod:`frames` or :mod:`clips` (faces, tracks) ->
:mod:`alerts` through :mod:`cooldown` (one alert per camera and identity per window, across instances) ->
:mod:`results` (one JSON per source object, idempotent). :mod:`processor` runs a batch of records.

Rooms:
    ``events``      S3 notifications (``Records``) and EventBridge "Object Created" events -> camera objects
    ``keys``        ``<prefix>cameras/<camera>/<name>.<jpg|jpeg|png|webp|mp4>`` and capture times
    ``cameras``     ``FRS_CAMERAS``: per-camera gallery, minimum face size, unknown alerts, enabled
    ``objects``     small JSON objects with conditional writes, in S3 or a local directory
    ``sources``     reading the camera objects themselves (S3 or local files), with the size limits
    ``answers``     the one adapter over ``FaceService.identify``'s answer (field names fixed in one place)
    ``frames``      one frame -> every face
    ``video``       OpenCV decoding, sampling at ``FRS_VIDEO_FPS``, the clip limits
    ``tracking``    faces linked across sampled frames (box overlap + embedding similarity)
    ``clips``       one clip -> tracks with one identity each (quality-weighted)
    ``alerts``      watchlist / unknown alert messages and where they go (SNS, or a callback)
    ``cooldown``    the per-(camera, identity) claim that keeps alerts from flooding
    ``results``     result documents, written once per source object
    ``processor``   a batch of camera objects, end to end
"""
