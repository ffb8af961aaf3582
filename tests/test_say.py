"""`doppel say` end to end: real piper, real face mesh, real ffmpeg; checked by Whisper and MediaPipe."""

import numpy as np
import pytest

from conftest import doppel, read_video, wer
from renderers import landmarks as lm
from renderers.video import probe

TEXT = "Good morning. I am your digital twin, and I am happy to talk with you today."


@pytest.fixture(scope="module")
def said(tmp_path_factory):
    out = tmp_path_factory.mktemp("say") / "hello.mp4"
    run = doppel("say", TEXT, "--out", str(out), "--no-window")
    assert run.returncode == 0, run.stderr
    frames, audio = read_video(out)
    return out, frames, audio


def test_mp4_has_h264_and_aac_at_25_fps(said):
    info = probe(said[0])
    assert info["video_codec"] == "h264" and info["audio_codec"] == "aac"
    assert info["fps"] >= 25


def test_video_is_as_long_as_the_audio(said):
    out, frames, audio = said
    fps = probe(out)["fps"]
    assert abs(len(frames) / fps - len(audio) / 16000) <= 1 / fps + 1e-6


def test_speech_transcribes_back_to_the_text(said, transcriber):
    from assistant.messages import AudioClip

    heard = transcriber.transcribe(AudioClip(said[2].astype(np.float32), 16000)).text
    assert wer(TEXT, heard) <= 0.2, heard


def _mouth_gaps(frames):
    with lm.FaceMesh() as mesh:
        found = [mesh.find(f) for f in frames]
    assert all(p is not None for p in found), "the face is lost in some frames"
    return np.array([np.linalg.norm(p[14] - p[13]) / np.ptp(p[lm.FACE_OVAL, 0]) for p in found])


def _pauses(quiet: np.ndarray, min_frames: int = 4) -> np.ndarray:
    """Frames inside real pauses: runs of quiet frames, less one frame at each edge (a stop
    consonant's closure is quiet too, but the mouth is busy then)."""
    inside = np.zeros_like(quiet)
    start = None
    for i, q in enumerate(np.append(quiet, False)):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if i - start >= min_frames:
                inside[start + 1:i - 1] = True
            start = None
    return inside


def test_face_is_in_every_frame_and_the_mouth_moves_only_with_speech(said):
    out, frames, audio = said
    fps = probe(out)["fps"]
    step = 16000 / fps
    loudness = np.array([np.sqrt(np.mean(audio[int(i * step):int((i + 1) * step)] ** 2) + 1e-12)
                         for i in range(len(frames))])
    gaps = _mouth_gaps(frames)
    speaking = loudness > 0.1 * loudness.max()
    silent = _pauses(loudness < 0.01 * loudness.max())
    assert speaking.sum() > 20 and silent.sum() >= 3
    rest = np.median(gaps[silent])
    assert np.max(gaps[speaking]) - rest > 0.04, "the mouth barely opens while speaking"
    assert np.std(gaps[speaking]) > 0.01, "the mouth does not move with the syllables"
    # still in pauses; a lone frame may be off where a blink throws the landmark fit, never by an opening
    deviation = np.abs(gaps[silent] - rest)
    assert np.percentile(deviation, 90) < 0.02 and deviation.max() < 0.04, "the mouth moves in silence"


def test_an_srt_subtitle_file_is_written_beside_the_video(said):
    out, _, audio = said
    srt = out.with_suffix(".srt").read_text()
    blocks = [b.splitlines() for b in srt.strip().split("\n\n")]
    assert blocks and all(b[0] == str(i) and " --> " in b[1] for i, b in enumerate(blocks, 1))
    spoken = " ".join(" ".join(b[2:]) for b in blocks)
    assert spoken.split() == TEXT.split()  # every word, in order

    def seconds(stamp):
        h, m, rest = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(rest.replace(",", "."))

    times = [tuple(seconds(s) for s in b[1].split(" --> ")) for b in blocks]
    assert all(a < b for a, b in times) and times[-1][1] <= len(audio) / 16000 + 0.05
