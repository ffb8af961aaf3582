"""Streaming voice activity detection with Silero VAD v6 (ONNX, through onnxruntime: no torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
BLOCK = 512  # samples per VAD step: 32 ms, what Silero expects at 16 kHz
CONTEXT = 64  # samples of the previous block Silero sees in front of each block


class SileroVad:
    """Speech probability for each 512-sample block, carrying the model's state between blocks."""

    def __init__(self, model_path: Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1  # one small model per block: threads cost more than they give
        options.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(str(model_path), providers=["CPUExecutionProvider"],
                                                     sess_options=options)
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT, np.float32)

    def __call__(self, block: np.ndarray) -> float:
        if len(block) != BLOCK:
            raise ValueError(f"Silero needs blocks of {BLOCK} samples, got {len(block)}")
        window = np.concatenate([self._context, block.astype(np.float32)])[None, :]
        prob, self._h, self._c = self._session.run(None, {"input": window, "h": self._h, "c": self._c})
        self._context = window[0, -CONTEXT:]
        return float(prob.ravel()[0])
