"""`doppel serve`: the twin's own voice behind an OpenAI-compatible speech API, on loopback.

POST /v1/audio/speech  {"model", "input", "voice", "response_format": "wav"|"pcm", "speed",
                        "emotion", "intensity"}  (the last two are Doppel's additions)
GET  /v1/models
"""

from __future__ import annotations

import io
import threading
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from assistant.tts import Voice

MAX_INPUT = 4096  # characters, as OpenAI's API


class SpeechRequest(BaseModel):
    model: str = "tts-1"
    input: str = Field(min_length=1, max_length=MAX_INPUT)
    voice: str = "doppel"
    response_format: Literal["wav", "pcm"] = "wav"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    emotion: str = "neutral"
    intensity: float = Field(0.0, ge=0.0, le=1.0)


def create_app(voice: Voice, persona_name: str):
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import Response

    app = FastAPI(title="Doppel voice", docs_url=None, redoc_url=None)
    lock = threading.Lock()  # one synthesis at a time: piper and WORLD already use the cores

    @app.get("/v1/models")
    def list_models() -> dict:
        return {"object": "list", "data": [{"id": "tts-1", "object": "model", "owned_by": persona_name}]}

    @app.post("/v1/audio/speech")
    def speech(request: SpeechRequest) -> Response:
        if not request.input.strip():
            raise HTTPException(400, "input is empty")
        with lock:
            base_rate = getattr(voice, "rate", 1.0)
            try:
                voice.rate = base_rate * request.speed
                clip, _ = voice.speak(request.input, request.emotion, request.intensity)
            finally:
                voice.rate = base_rate
        pcm = (np.clip(clip.samples, -1, 1) * 32767).astype("<i2")
        if request.response_format == "pcm":
            return Response(pcm.tobytes(), media_type="audio/pcm",
                            headers={"X-Sample-Rate": str(clip.sample_rate)})
        return Response(_wav(pcm, clip.sample_rate), media_type="audio/wav")

    return app


def _wav(pcm: np.ndarray, rate: int) -> bytes:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, pcm, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def serve(voice: Voice, persona_name: str, host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(create_app(voice, persona_name), host=host, port=port, log_level="warning")
    uvicorn.Server(config).run()
