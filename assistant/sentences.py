"""Group streamed LLM tokens into sentences (or long clauses) the voice can speak at once."""

from __future__ import annotations

import re

_ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "st.", "e.g.", "i.e.", "etc.", "vs.", "no."}
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*$")
_CLAUSE_END = re.compile(r"[,;:—]$")
MIN_WORDS = 2  # shorter pieces are joined to the next one
_UNSPEAKABLE = re.compile(r"[*_#`~<>|\[\]{}]|[\U0001F000-\U0001FAFF\u2600-\u27BF]")


def speakable(text: str) -> str:
    """Drop markdown marks and emoji a voice would read out or stumble on."""
    return re.sub(r"\s+", " ", _UNSPEAKABLE.sub("", text)).strip()


class SentenceSplitter:
    def __init__(self, min_clause_words: int) -> None:
        self.min_clause_words = min_clause_words
        self._buffer = ""
        self._held = ""

    def feed(self, token: str) -> list[str]:
        """Add a token; return the sentences it completed."""
        self._buffer += token
        done: list[str] = []
        # a boundary is only sure once the whitespace after it has arrived (so "3.5" is not cut)
        while (cut := self._find_cut()) is not None:
            piece, self._buffer = self._buffer[:cut], self._buffer[cut:].lstrip()
            text = speakable(f"{self._held} {piece}")
            if len(text.split()) < MIN_WORDS:  # "1." of a list, "Well," alone: wait for more
                self._held = text
                continue
            self._held = ""
            if text:
                done.append(text)
        return done

    def flush(self) -> list[str]:
        text, self._buffer, self._held = speakable(f"{self._held} {self._buffer}"), "", ""
        return [text] if text else []

    def _find_cut(self) -> int | None:
        words_so_far = 0
        for match in re.finditer(r"\S+(?=\s)", self._buffer):
            word = match.group()
            words_so_far += 1
            if _SENTENCE_END.search(word) and word.lower() not in _ABBREVIATIONS:
                return match.end()
            if _CLAUSE_END.search(word) and words_so_far >= self.min_clause_words:
                return match.end()
        return None
