"""Exporting a sentence-transformers model once to int8 ONNX, cached on disk.

The first use of a model exports its transformer with PyTorch, quantizes the
weights to int8 (dynamic quantization) and keeps the result in ``cache_dir``
under a key made from the model files. Later loads need neither PyTorch nor
sentence-transformers: only onnxruntime and the ``tokenizers`` fast tokenizer,
which start in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.embedding.base import ModelError

#: bump when the export recipe changes, so old cached models are not reused
EXPORT_VERSION = 3
POOLING_MODES = ("mean", "cls", "max", "mean_sqrt_len")
_SMALL_FILE = 1 << 20  # model files up to this size are hashed whole
_EDGE = 1 << 20  # of bigger files (the weights), the size and both ends are hashed


@dataclass(frozen=True)
class ModelLayout:
    """Where the parts of a sentence-transformers model directory are, and how it pools."""

    root: Path
    transformer: Path  # folder with config.json + weights
    tokenizer: Path  # tokenizer.json
    pooling: str
    max_seq_length: int
    dim: int


def read_layout(path: Path) -> ModelLayout:
    """Read a model directory's configuration; a clear :class:`ModelError` when it does not fit."""
    path = Path(path)
    if not path.is_dir():
        raise ModelError(f"model folder not found: {path}")
    modules = _read_json(path / "modules.json", default=None)
    transformer, pooling_dir = path, None
    if modules is not None:
        kinds = {str(m.get("type", "")).rsplit(".", 1)[-1]: m for m in modules}
        if "Transformer" in kinds:
            transformer = path / kinds["Transformer"].get("path", "")
        if "Pooling" in kinds:
            pooling_dir = path / kinds["Pooling"].get("path", "")
        unknown = set(kinds) - {"Transformer", "Pooling", "Normalize"}
        if unknown:
            raise ModelError(
                f"{path} has modules the ONNX backend does not run ({', '.join(sorted(unknown))}); "
                "use --backend torch"
            )
    if not (transformer / "config.json").exists():
        raise ModelError(f"{path} is not a sentence-transformers model directory (no config.json)")
    tokenizer = transformer / "tokenizer.json"
    if not tokenizer.exists():
        tokenizer = path / "tokenizer.json"
    if not tokenizer.exists():
        raise ModelError(f"{path} has no fast tokenizer (tokenizer.json); use --backend torch")
    config = _read_json(transformer / "config.json", default={})
    st_config = _read_json(transformer / "sentence_bert_config.json", default=None) or _read_json(
        path / "sentence_bert_config.json", default={}
    )
    max_len = int(st_config.get("max_seq_length") or config.get("max_position_embeddings") or 512)
    pool = _read_json(pooling_dir / "config.json", default={}) if pooling_dir else {}
    mode = "mean"
    for name in POOLING_MODES:
        if pool.get(f"pooling_mode_{name}_tokens" if name != "cls" else "pooling_mode_cls_token"):
            mode = name
            break
    dim = int(pool.get("word_embedding_dimension") or config.get("hidden_size") or 0)
    if not dim:
        raise ModelError(f"cannot tell the embedding dimension of {path}")
    return ModelLayout(path, transformer, tokenizer, mode, max_len, dim)


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise ModelError(f"unreadable model file {path} ({exc})") from exc


def model_key(layout: ModelLayout, quantize: bool) -> str:
    """A cache key for the exported model: the model files, the recipe and its options.

    Small files are hashed whole; the big weights file by its size and both ends
    (hashing 90 MB on every start would cost more than loading the ONNX model).
    """
    h = hashlib.blake2b(digest_size=12)
    h.update(f"v{EXPORT_VERSION} q{int(quantize)} {layout.pooling} {layout.max_seq_length}".encode())
    for file in sorted(p for p in layout.transformer.iterdir() if p.is_file()):
        if file.suffix in {".md", ".txt"} and file.name != "vocab.txt":
            continue
        size = file.stat().st_size
        h.update(f"{file.name}:{size}".encode())
        with open(file, "rb") as fh:
            if size <= _SMALL_FILE:
                h.update(fh.read())
            else:
                h.update(fh.read(_EDGE))
                fh.seek(size - _EDGE)
                h.update(fh.read(_EDGE))
    return h.hexdigest()


def ensure_exported(layout: ModelLayout, cache_dir: Path, quantize: bool = True) -> Path:
    """The cached ONNX file for ``layout``, exporting it first if needed.

    The file appears atomically (written aside, then renamed), so concurrent
    processes either find the whole file or export their own copy.
    """
    key = model_key(layout, quantize)
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in layout.root.name)[:60]
    target = cache_dir / f"{stem}-{key}-{'int8' if quantize else 'fp32'}.onnx"
    if target.exists():
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".export-", dir=cache_dir))
    except OSError as exc:
        raise ModelError(f"cannot write the model cache {cache_dir} ({exc}); choose another folder") from exc
    try:
        try:
            result = _export(layout, work / "model.onnx")
            result = _fuse(layout, result, work / "fused.onnx")
            if quantize:
                result = _quantize(result, work / "int8.onnx")
        except ModelError:
            raise
        except Exception as exc:  # the exporter and quantizer raise many types
            raise ModelError(
                f"could not export {layout.root} to ONNX ({type(exc).__name__}: {exc}); use --backend torch"
            ) from exc
        tmp = cache_dir / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
        shutil.move(result, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _export(layout: ModelLayout, out: Path) -> Path:
    """Export the transformer (token ids -> last hidden state) with PyTorch's exporter.

    Eager attention exports as plain MatMul/Softmax nodes, which ONNX Runtime's
    optimizer then fuses into its fast Attention kernel.
    """
    import inspect
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model = AutoModel.from_pretrained(
            str(layout.transformer), local_files_only=True, attn_implementation="eager"
        ).eval()
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load {layout.transformer} for ONNX export ({exc})") from exc
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(model.forward).parameters:
        names.append("token_type_ids")

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    sample = torch.ones((2, 16), dtype=torch.long)
    args = tuple(sample if n != "token_type_ids" else torch.zeros_like(sample) for n in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Wrapped(),
            args,
            str(out),
            dynamo=False,
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
        )
    return out


def _fuse(layout: ModelLayout, model: Path, out: Path) -> Path:
    """Fuse attention, layer norms and GELU (BERT-like models); the input when that fails."""
    config = _read_json(layout.transformer / "config.json", default={})
    heads, hidden = config.get("num_attention_heads"), config.get("hidden_size")
    if not heads or not hidden:
        return model
    try:
        with _quiet_logging():
            from onnxruntime.transformers.optimizer import optimize_model

            fused = optimize_model(str(model), model_type="bert", num_heads=heads, hidden_size=hidden)
            fused.save_model_to_file(str(out))
    except Exception:  # an optimization, never a requirement: keep the plain export
        return model
    return out


def _quantize(model: Path, out: Path) -> Path:
    """Int8 weights of the matrix multiplications, one scale per output channel.

    Per-tensor scales lose too much (cosine to fp32 ~0.95). The fused attention and
    embedding nodes stay fp32: quantizing them too is ~15% faster but moves some
    question vectors enough to change answers (dev set: one question in 96).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_logging():
        quantize_dynamic(
            str(model),
            str(out),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    return out


@contextmanager
def _quiet_logging() -> Iterator[None]:
    """onnxruntime's tools log advice to the root logger; keep it off the user's terminal."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)
