"""``frs bench``: cold start, warm latency, throughput, search scaling and the FaceAnalysis reference."""
