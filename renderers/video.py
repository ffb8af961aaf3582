"""MP4 sink: H.264 video + AAC audio through the ffmpeg that imageio-ffmpeg bundles."""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from assistant.config import VideoConfig
from assistant.errors import DoppelError

FrameAt = Callable[[float], np.ndarray]


def frame_count(duration: float, fps: int) -> int:
    """Frames that cover the audio."""
    return max(1, int(math.ceil(duration * fps - 1e-6)))


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())


def write_mp4(out: Path, frame_at: FrameAt, samples: np.ndarray, sample_rate: int, size: int, fps: int,
              config: VideoConfig, on_frame: Optional[Callable[[int, int], None]] = None) -> None:
    """Render the frame for each frame time of the audio and mux both into `out`."""
    import imageio_ffmpeg

    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise DoppelError(f"--out {out}: the file name must end in .mp4")
    out.parent.mkdir(parents=True, exist_ok=True)
    total = frame_count(len(samples) / sample_rate, fps)
    # pad the sound to the last frame's end so both streams end together
    samples = np.pad(samples, (0, max(0, int(round(total * sample_rate / fps)) - len(samples))))
    with tempfile.TemporaryDirectory(prefix="doppel-") as tmp:
        wav = Path(tmp) / "speech.wav"
        write_wav(wav, samples, sample_rate)
        partial = Path(tmp) / "out.mp4"
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size}x{size}", "-r", str(fps), "-i", "-",
            "-i", str(wav),
            "-c:v", "libx264", "-preset", config.preset, "-crf", str(config.crf), "-pix_fmt", "yuv420p",
            # 48 kHz: AAC's 1024-sample blocks then overrun the video by 21 ms at most, well under a frame
            "-c:a", "aac", "-ar", "48000", "-b:a", config.audio_bitrate, "-movflags", "+faststart", str(partial),
        ]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            for index in range(total):
                process.stdin.write(np.ascontiguousarray(frame_at(index / fps)).tobytes())
                if on_frame:
                    on_frame(index + 1, total)
            process.stdin.close()
        except BrokenPipeError:
            pass
        error = process.stderr.read().decode(errors="replace").strip()
        if process.wait() != 0:
            raise DoppelError(f"ffmpeg could not write {out}: {error.splitlines()[-1] if error else 'unknown error'}")
        shutil.move(str(partial), str(out))  # only a complete file reaches the user's path


def probe(path: Path) -> dict[str, float | str]:
    """Streams and durations of a media file, read from ffmpeg's own report (used by tests and doctor)."""
    import imageio_ffmpeg

    result = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v:0",
                             "-f", "null", "-"], capture_output=True, text=True)
    report = result.stderr
    info: dict[str, float | str] = {"report": report}
    frames = [line for line in report.replace("\r", "\n").splitlines() if line.startswith("frame=")]
    if frames:
        info["frames"] = float(frames[-1].split("frame=")[1].split()[0])
    inputs = report.split("Output #0")[0]  # the file's own streams, not the null muxer's
    for line in inputs.splitlines():
        if "Video:" in line:
            info["video_codec"] = line.split("Video:")[1].split()[0]
            fps = [p for p in line.split(",") if " fps" in p]
            if fps:
                info["fps"] = float(fps[0].split()[0])
        if "Audio:" in line:
            info["audio_codec"] = line.split("Audio:")[1].split()[0]
    return info
