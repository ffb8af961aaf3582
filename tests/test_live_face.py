"""The face window in the live conversation: frames follow the reply's audio playback position."""

from __future__ import annotations

import numpy as np
import pytest

import conversations as conv


@pytest.fixture(scope="module")
def question(tmp_path_factory):
    import soundfile as sf

    audio = np.concatenate([np.zeros(8000), conv.espeak_say("What is your favourite colour?", "en-us+f3"),
                            np.zeros(16000 * 9)])
    path = tmp_path_factory.mktemp("face") / "question.wav"
    sf.write(path, (0.6 * audio).astype(np.float32), 16000)
    return path


def test_the_live_face_moves_its_mouth_with_the_reply_and_rests_otherwise(question, monkeypatch):
    from assistant.config import load_config
    from assistant.live import Conversation, ReplyDone
    from assistant.present import LiveFace
    from assistant.sources import FileSource
    from persona.persona import load_persona

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    config = load_config(overrides=["models.llm=smollm2-135m"])
    persona = load_persona(None)
    conversation = Conversation(config, persona, FileSource(question, realtime=True))
    face = LiveFace(config, persona)
    seen = []

    def on_block(timeline, position):
        seen.append((timeline is not None, position, face.animator.mouth_open(position) if timeline else 0.0))
        return face.tick(timeline, position)

    try:
        events = list(conversation.run(max_replies=1, on_block=on_block))
        pixels = face.window.pixels()
    finally:
        conversation.close()
        face.close()
    assert any(isinstance(e, ReplyDone) for e in events)
    speaking = [(p, m) for s, p, m in seen if s]
    assert face.frames == len(seen) > 100  # a frame per 32 ms microphone block
    assert len(speaking) > 20 and max(m for _, m in speaking) > 0.3  # the mouth opens while it speaks
    positions = [p for p, _ in speaking]
    assert positions == sorted(positions)  # the audio clock only moves forward within a reply
    assert pixels.std() > 20  # a face, not a blank window
