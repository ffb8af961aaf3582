"""SRT subtitles beside an exported video: one cue per short piece of a sentence, on the audio clock."""

from __future__ import annotations

import re
from pathlib import Path

MAX_WORDS = 12  # per cue: about two short lines on screen
LINE_CHARS = 42  # a cue's text is broken into lines of at most this many characters


def cues(sentences: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Spoken pieces (start, end, text) → cues of one sentence, cut every MAX_WORDS words; a piece's time is shared
    among its pieces by their length in characters (speech time follows letters closely enough)."""
    out = []
    for start, end, text in sentences:
        pieces = [" ".join(words[i:i + MAX_WORDS])
                  for sentence in re.split(r"(?<=[.!?…])\s+", text.strip())
                  for words in [sentence.split()] for i in range(0, len(words), MAX_WORDS)]
        total = sum(len(p) for p in pieces) or 1
        at = start
        for piece in pieces:
            span = (end - start) * len(piece) / total
            out.append((at, at + span, piece))
            at += span
    return out


def _clock(seconds: float) -> str:
    millis = int(round(max(seconds, 0.0) * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def _lines(text: str) -> str:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > LINE_CHARS:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return "\n".join(lines + [current])


def write_srt(path: Path, sentences: list[tuple[float, float, str]]) -> Path:
    blocks = [f"{i}\n{_clock(start)} --> {_clock(end)}\n{_lines(text)}\n"
              for i, (start, end, text) in enumerate(cues(sentences), 1)]
    Path(path).write_text("\n".join(blocks), encoding="utf-8")
    return Path(path)
