"""Model packs: a detector and a recognizer ONNX file plus the parameters to run them, pinned by sha256."""
