"""Emotion tagger: a label from EMOTIONS and an intensity 0–1 for a sentence.

Methods (compared on a labelled set in bench/think.py; `emotion.method` picks one):
- `prototypes`: MiniLM embedding of the sentence against the mean embedding of a few example
  sentences per emotion; VADER's valence sharpens the intensity.
- `vader`: valence only (happy / sad / neutral), the baseline.
- `llm`: the language model, its answer constrained by a grammar to the listed labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised", "afraid", "tender")

# Example sentences per emotion, written for Doppel and kept apart from the labelled test sets.
PROTOTYPES = json.loads((Path(__file__).parent / "data" / "emotion_examples.json").read_text(encoding="utf-8"))

Completer = Callable[[list[dict], dict], dict]


@dataclass(frozen=True)
class Tag:
    emotion: str
    intensity: float


class EmotionTagger:
    def __init__(self, method: str, embed: Optional[Callable] = None, complete_json: Optional[Completer] = None) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.method = method
        self._vader = SentimentIntensityAnalyzer()
        self._embed = embed
        self._complete = complete_json
        if method == "prototypes":
            self._labels = list(PROTOTYPES)
            centers = np.stack([embed(PROTOTYPES[label]).mean(axis=0) for label in self._labels])
            self._centers = centers / np.linalg.norm(centers, axis=1, keepdims=True)

    def tag(self, text: str) -> Tag:
        return {"prototypes": self._by_prototypes, "vader": self._by_vader, "llm": self._by_llm}[self.method](text)

    def _valence(self, text: str) -> float:
        return self._vader.polarity_scores(text)["compound"]

    def _by_vader(self, text: str) -> Tag:
        valence = self._valence(text)
        if abs(valence) < 0.3:
            return Tag("neutral", 0.0)
        return Tag("happy" if valence > 0 else "sad", round(abs(valence), 2))

    def _by_prototypes(self, text: str) -> Tag:
        similarity = self._centers @ self._embed([text])[0]
        best = int(np.argmax(similarity))
        label = self._labels[best]
        if label == "neutral":
            return Tag(label, 0.0)
        runner_up = float(np.sort(similarity)[-2])
        margin = float(similarity[best]) - runner_up  # how clearly it is this emotion
        intensity = 0.35 + 3.0 * margin + 0.4 * abs(self._valence(text))
        return Tag(label, round(float(np.clip(intensity, 0.1, 1.0)), 2))

    def _by_llm(self, text: str) -> Tag:
        schema = {"type": "object", "properties": {
            "emotion": {"type": "string", "enum": list(EMOTIONS)},
            "intensity": {"type": "number", "minimum": 0, "maximum": 1}}, "required": ["emotion", "intensity"]}
        messages = [{"role": "system", "content": "Label the emotion the sentence expresses: one of "
                     + ", ".join(EMOTIONS) + ", and its intensity from 0 to 1."},
                    {"role": "user", "content": text[:500]}]
        result = self._complete(messages, schema)
        emotion = result.get("emotion", "neutral")
        if emotion not in EMOTIONS:
            emotion = "neutral"
        return Tag(emotion, round(float(np.clip(result.get("intensity", 0.5), 0, 1)), 2) if emotion != "neutral" else 0.0)
