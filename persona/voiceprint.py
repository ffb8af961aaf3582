"""An enrolled voice as stored in a persona folder: voice/voiceprint.json + voice/voiceprint.npz.

Computed once per reference recording (enrollment) and reused by every reply; the JSON says which
speaker model and which reference (by SHA-256) it came from, so a changed recording is noticed.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from assistant.conversion import VoiceMap
from assistant.errors import DoppelError

FOLDER = "voice"
FORMAT = 1


@dataclass
class Voiceprint:
    model_id: str  # the speaker-embedding model
    reference_sha256: str
    speech_seconds: float  # of the reference, after VAD
    transcript: str  # what the reference says (the parallel data's text)
    embedding: np.ndarray  # unit-length ECAPA embedding of the reference
    vmap: VoiceMap
    checks: dict = field(default_factory=dict)  # per conversion method: similarity and WER on a check sentence

    def save(self, persona_folder: Path) -> Path:
        folder = Path(persona_folder) / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {k: v for k, v in asdict(self.vmap).items() if isinstance(v, np.ndarray)}
        scalars = {k: v for k, v in asdict(self.vmap).items() if not isinstance(v, np.ndarray)}
        meta = {"format": FORMAT, "model_id": self.model_id, "reference_sha256": self.reference_sha256,
                "speech_seconds": self.speech_seconds, "transcript": self.transcript, "checks": self.checks,
                "map": scalars}
        # write beside, then rename: a crash never leaves half a voiceprint
        tmp_npz, tmp_json = folder / ".voiceprint.tmp.npz", folder / ".voiceprint.tmp.json"
        np.savez_compressed(tmp_npz, embedding=self.embedding, **arrays)
        tmp_json.write_text(json.dumps(meta, indent=1), encoding="utf-8")
        os.replace(tmp_npz, folder / "voiceprint.npz")
        os.replace(tmp_json, folder / "voiceprint.json")
        return folder / "voiceprint.json"


def load_voiceprint(persona_folder: Path) -> Optional[Voiceprint]:
    """The persona's enrolled voice, or None when it has none."""
    folder = Path(persona_folder) / FOLDER
    meta_path, npz_path = folder / "voiceprint.json", folder / "voiceprint.npz"
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        with np.load(npz_path) as data:
            arrays = {k: data[k] for k in data.files}
        scalars = meta["map"]
        scalars["source_logf0"] = tuple(scalars["source_logf0"])
        scalars["target_logf0"] = tuple(scalars["target_logf0"])
        embedding = arrays.pop("embedding")
        vmap = VoiceMap(**scalars, **arrays)
        return Voiceprint(meta["model_id"], meta["reference_sha256"], meta["speech_seconds"],
                          meta["transcript"], embedding, vmap, meta.get("checks", {}))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DoppelError(f"the enrolled voice in {folder} cannot be read ({type(exc).__name__}); "
                          "enroll again with `doppel enroll VOICE.wav --persona ...`") from None
