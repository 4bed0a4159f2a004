"""``frs bench``: cold start, warm latency, throughput, peers (FaceAnalysis, face_recognition), search."""

# The sections of one ``frs bench`` run, in the order they run (``--skip`` names some to leave out).
SECTIONS = ("cold_start", "warm", "throughput", "peers", "search")
