"""Adapters from Lambda events (direct invocations, API Gateway v1/v2, Function URLs) to ``FaceService``."""
