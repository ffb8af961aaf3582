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
            self._embedding = ChromaEmbedding(embedder)
            self._collections: dict[str, object] = {}
            self._known = [c.name for c in self._client.list_collections()]  # also checks the store opens
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

    def _collection(self, kind: str, user: str, create: bool = True):
        """One collection per kind and user: a look-up needs no metadata filter, which is what made
        chromadb slow at 100k memories (p95 64 ms with a shared collection)."""
        name = f"{kind}-{hashlib.sha1(user.encode()).hexdigest()[:16]}"
        if name not in self._collections:
            if not create and name not in self._known:
                return None
            self._collections[name] = self._client.get_or_create_collection(
                name, embedding_function=self._embedding, metadata={"hnsw:space": "cosine", "user": user, "kind": kind})
            if name not in self._known:
                self._known.append(name)
        return self._collections[name]

    # writing -------------------------------------------------------------------------------
    def add_episode(self, user: str, speaker: str, text: str, emotion: str = "neutral",
                    when: Optional[float] = None) -> str:
        memory_id = f"ep-{uuid.uuid4().hex}"
        kind = "episodes" if speaker == "user" else "replies"  # Doppel's own words apart: never recalled as facts
        self._collection(kind, user).add(ids=[memory_id], documents=[text], metadatas=[{
            "user": user, "speaker": speaker, "emotion": emotion, "time": when or time.time()}])
        return memory_id

    def remember_fact(self, user: str, key: str, value: str, when: Optional[float] = None) -> str:
        """Store "key: value" for the user; the same key again (any wording case) replaces it."""
        key = normalize_key(key)
        memory_id = "fact-" + hashlib.sha1(f"{user}\0{key}".encode()).hexdigest()[:20]
        self._collection("facts", user).upsert(ids=[memory_id], documents=[f"{key}: {value}"], metadatas=[{
            "user": user, "key": key, "time": when or time.time()}])
        return memory_id

    def forget(self, user: str, memory_id: Optional[str] = None, about: Optional[str] = None) -> int:
        """Delete one memory by id, or the user's facts and episodes most related to `about`."""
        removed = 0
        if memory_id:
            for collection in self._user_collections(user, ("facts", "episodes", "replies")):
                found = collection.get(ids=[memory_id])["ids"]
                if found:
                    collection.delete(ids=found)
                    removed += len(found)
            return removed
        for memory in self.recall(user, about or "", k=3, include_shared=False, their_words_only=True):
            if memory.score >= 0.45:
                self._collection("facts" if memory.kind == "fact" else "episodes", user).delete(ids=[memory.id])
                removed += 1
        return removed

    def _user_collections(self, user: str, kinds: tuple[str, ...]) -> list:
        return [c for c in (self._collection(kind, user, create=False) for kind in kinds) if c is not None]

    # reading -------------------------------------------------------------------------------
    def recall(self, user: str, query: str, k: int = 5, include_shared: bool = True,
               their_words_only: bool = False) -> list[Memory]:
        """The k memories best for `query`: relevance (cosine) plus a bonus for recent ones.
        `their_words_only` leaves out what Doppel itself said (so it does not repeat itself)."""
        if not query.strip():
            return []
        kinds = ("facts", "episodes") if their_words_only else ("facts", "episodes", "replies")
        collections = self._user_collections(user, kinds)
        if include_shared and user != SHARED:
            collections += self._user_collections(SHARED, kinds)
        found: list[Memory] = []
        vector = None
        for collection in collections:
            count = collection.count()
            if not count:
                continue
            if vector is None:  # one embedding for all the collections searched
                vector = self._embedding([query])[0]
            result = collection.query(query_embeddings=[vector], n_results=min(k, count))
            kind = "fact" if collection.metadata.get("kind") == "facts" else "episode"
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
        items = []
        for name in list(self._known):
            collection = self._collections.get(name) or self._client.get_collection(name, embedding_function=self._embedding)
            meta = collection.metadata or {}
            if user is not None and meta.get("user") != user:
                continue
            kind = "fact" if meta.get("kind") == "facts" else "episode"
            result = collection.get()
            items += [self._memory(kind, i, d, m, None) for i, d, m in
                      zip(result["ids"], result["documents"], result["metadatas"])]
        return iter(sorted(items, key=lambda m: m.time))

    def add_records(self, records: list[dict]) -> int:
        """Import exported records (same ids: the imported one wins), batched per collection."""
        batches: dict[tuple[str, str], list[dict]] = {}
        for record in records:
            speaker = record.get("speaker", "user")
            kind = "facts" if record["kind"] == "fact" else "episodes" if speaker == "user" else "replies"
            batches.setdefault((kind, record["user"]), []).append(record)
        for (kind, user), batch in batches.items():
            metas = [{"user": user, "time": r["time"], **({"key": r.get("key", "")} if kind == "facts" else
                     {"speaker": r.get("speaker", "user"), "emotion": r.get("emotion", "neutral")})} for r in batch]
            self._collection(kind, user).upsert(ids=[r["id"] for r in batch], documents=[r["text"] for r in batch],
                                                metadatas=metas)
        return len(records)

    def count(self) -> int:
        return sum(self._client.get_collection(name, embedding_function=self._embedding).count()
                   for name in self._known)
