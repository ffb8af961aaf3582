"""Long-term memory: chromadb on disk, scoped per user.

Two collections: `episodes` (every turn, with time, speaker, user and emotion) and `facts`
(durable facts about a user, one per key, so a newer value replaces the old). Look-ups only ever
search the asking user's memories and the persona-wide ones (user "_shared"): another user's
memories never reach the prompt, whatever the question says.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Optional

from assistant.errors import DoppelError
from memory.embeddings import ChromaEmbedding, MiniLm

SHARED = "_shared"  # persona-wide knowledge, visible to every user
RECENCY_HALF_LIFE_DAYS = 30.0


@dataclass(frozen=True)
class Memory:
    id: str
    kind: str  # "fact" or "episode"
    user: str
    text: str
    time: float  # unix seconds
    speaker: str = ""  # episodes: "user" or "doppel"
    emotion: str = "neutral"
    key: str = ""  # facts: what the fact is about ("dog's name")
    score: float = 0.0  # retrieval score: relevance mixed with recency

    def as_record(self) -> dict:
        record = asdict(self)
        record.pop("score")
        return record


def normalize_key(key: str) -> str:
    key = " ".join(key.lower().replace("_", " ").split())
    for prefix in ("my ", "the user's ", "user's ", "user "):
        if key.startswith(prefix):
            key = key[len(prefix):]
    return key


class MemoryStore:
    def __init__(self, folder: Path, embedder: MiniLm, recency_weight: float = 0.15) -> None:
        self.folder = Path(folder)
        self.embedder = embedder
        self.recency_weight = recency_weight
        self._lock = self._take_lock()
        try:
            import chromadb
            from chromadb.config import Settings

            self.folder.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(self.folder),
                                                     settings=Settings(anonymized_telemetry=False))
            embedding = ChromaEmbedding(embedder)
            self._episodes = self._client.get_or_create_collection(
                "episodes", embedding_function=embedding, metadata={"hnsw:space": "cosine"})
            self._facts = self._client.get_or_create_collection(
                "facts", embedding_function=embedding, metadata={"hnsw:space": "cosine"})
        except DoppelError:
            raise
        except Exception as exc:  # sqlite/hnsw errors on a damaged store
            self.close()
            raise DoppelError(f"the memory in {self.folder} cannot be opened ({type(exc).__name__}); nothing was "
                              "changed: move the folder aside (then `doppel memory import` a backup)") from None

    def _take_lock(self):
        """One Doppel at a time writes a memory folder; a second one is told, not blocked."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = open(self.folder / ".doppel.lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise DoppelError(f"the memory in {self.folder} is in use by another Doppel; close it and try again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def close(self) -> None:
        if getattr(self, "_lock", None) is not None:
            self._lock.close()
            self._lock = None

    # writing -------------------------------------------------------------------------------
    def add_episode(self, user: str, speaker: str, text: str, emotion: str = "neutral",
                    when: Optional[float] = None) -> str:
        memory_id = f"ep-{uuid.uuid4().hex}"
        self._episodes.add(ids=[memory_id], documents=[text], metadatas=[{
            "user": user, "speaker": speaker, "emotion": emotion, "time": when or time.time()}])
        return memory_id

    def remember_fact(self, user: str, key: str, value: str, when: Optional[float] = None) -> str:
        """Store "key: value" for the user; the same key again (any wording case) replaces it."""
        key = normalize_key(key)
        memory_id = "fact-" + hashlib.sha1(f"{user}\0{key}".encode()).hexdigest()[:20]
        self._facts.upsert(ids=[memory_id], documents=[f"{key}: {value}"], metadatas=[{
            "user": user, "key": key, "time": when or time.time()}])
        return memory_id

    def forget(self, user: str, memory_id: Optional[str] = None, about: Optional[str] = None) -> int:
        """Delete one memory by id, or the user's facts and episodes most related to `about`."""
        removed = 0
        if memory_id:
            for collection in (self._facts, self._episodes):
                found = collection.get(ids=[memory_id], where={"user": user})["ids"]
                if found:
                    collection.delete(ids=found)
                    removed += len(found)
            return removed
        for memory in self.recall(user, about or "", k=3, include_shared=False):
            if memory.score >= 0.45:
                collection = self._facts if memory.kind == "fact" else self._episodes
                collection.delete(ids=[memory.id])
                removed += 1
        return removed

    # reading -------------------------------------------------------------------------------
    def recall(self, user: str, query: str, k: int = 5, include_shared: bool = True,
               their_words_only: bool = False) -> list[Memory]:
        """The k memories best for `query`: relevance (cosine) plus a bonus for recent ones.
        `their_words_only` leaves out what Doppel itself said (so it does not repeat itself)."""
        scope = {"user": {"$in": [user, SHARED]}} if include_shared else {"user": user}
        found: list[Memory] = []
        for kind, collection in (("fact", self._facts), ("episode", self._episodes)):
            count = collection.count()
            if not count or not query.strip():
                continue
            where = {"$and": [scope, {"speaker": "user"}]} if kind == "episode" and their_words_only else scope
            result = collection.query(query_texts=[query], n_results=min(k * 2, count), where=where)
            for memory_id, text, meta, distance in zip(result["ids"][0], result["documents"][0],
                                                       result["metadatas"][0], result["distances"][0]):
                found.append(self._memory(kind, memory_id, text, meta, 1.0 - distance))
        return sorted(found, key=lambda m: m.score, reverse=True)[:k]

    def _memory(self, kind: str, memory_id: str, text: str, meta: dict, relevance: Optional[float]) -> Memory:
        """A Memory; with a relevance, scored (relevance plus a recency bonus), else unscored."""
        score = 0.0
        if relevance is not None:
            age_days = max(0.0, (time.time() - float(meta.get("time", 0))) / 86400)
            recency = math.exp(-age_days * math.log(2) / RECENCY_HALF_LIFE_DAYS)
            score = round(relevance + self.recency_weight * recency, 4)
        return Memory(memory_id, kind, meta["user"], text, float(meta.get("time", 0)), meta.get("speaker", ""),
                      meta.get("emotion", "neutral"), meta.get("key", ""), score)

    def all(self, user: Optional[str] = None) -> Iterator[Memory]:
        """Every memory (of one user, or of everyone), oldest first."""
        where = {"user": user} if user else None
        items = []
        for kind, collection in (("fact", self._facts), ("episode", self._episodes)):
            result = collection.get(where=where)
            items += [self._memory(kind, i, d, m, None) for i, d, m in
                      zip(result["ids"], result["documents"], result["metadatas"])]
        return iter(sorted(items, key=lambda m: m.time))

    def add_records(self, records: list[dict]) -> int:
        """Import exported records (same ids: the imported one wins)."""
        for record in records:
            meta = {"user": record["user"], "time": record["time"]}
            if record["kind"] == "fact":
                self._facts.upsert(ids=[record["id"]], documents=[record["text"]], metadatas=[{**meta, "key": record["key"]}])
            else:
                self._episodes.upsert(ids=[record["id"]], documents=[record["text"]], metadatas=[{
                    **meta, "speaker": record.get("speaker", ""), "emotion": record.get("emotion", "neutral")}])
        return len(records)

    def count(self) -> int:
        return self._facts.count() + self._episodes.count()
