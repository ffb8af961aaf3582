"""Sentence embeddings with the bundled all-MiniLM-L6-v2, run through onnxruntime.

The model ships in sentence-transformers format; the first use exports it once to ONNX beside the
cached weights (torch is needed for that step only), so memory look-ups start without importing
torch: about 2 ms a sentence on 2 cores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

ONNX_NAME = "model.onnx"
MAX_TOKENS = 256  # what MiniLM was trained with; longer texts are truncated


def export_onnx(folder: Path) -> Path:
    """Write folder/model.onnx from the sentence-transformers weights (once)."""
    import warnings

    import torch
    from transformers import AutoModel

    target = folder / ONNX_NAME
    model = AutoModel.from_pretrained(str(folder)).eval()

    class Encoder(torch.nn.Module):  # keyword arguments only: BertModel's positional order changed over versions
        def __init__(self, bert) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones((1, 8), dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in names + ["hidden"]}
    partial = target.with_suffix(".partial")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Encoder(model), dummy, str(partial), input_names=names, output_names=["hidden"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    partial.replace(target)
    return target


class MiniLm:
    dimensions = 384

    def __init__(self, folder: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        model = self.folder / ONNX_NAME
        if not model.is_file():
            export_onnx(self.folder)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()  # to the batch's longest, not to MAX_TOKENS

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors, one row per text (mean pooling over tokens, as MiniLM was trained)."""
        if not texts:
            return np.zeros((0, self.dimensions), np.float32)
        encoded = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], np.int64)
        mask = np.array([e.attention_mask for e in encoded], np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(ids)})[0]
        pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


_LOADED: dict[Path, MiniLm] = {}


class ChromaEmbedding:
    """chromadb's embedding-function interface over MiniLm. Passed every time a collection is opened:
    chromadb's own default would download a model at run time."""

    def __init__(self, model: MiniLm) -> None:
        self.model = model
        _LOADED.setdefault(model.folder, model)

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002 (chromadb's name)
        return list(self.model.embed(input))

    def embed_query(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002
        return self(input)

    @staticmethod
    def name() -> str:
        return "doppel-minilm-onnx"

    def get_config(self) -> dict[str, Any]:
        return {"folder": str(self.model.folder)}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "ChromaEmbedding":
        # chromadb rebuilds the function from its config on every write: reuse the loaded model
        folder = Path(config["folder"])
        if folder not in _LOADED:
            _LOADED[folder] = MiniLm(folder)
        return ChromaEmbedding(_LOADED[folder])

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def is_legacy(self) -> bool:
        return False

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        return None

    def validate_config_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        return None
