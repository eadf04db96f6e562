"""Recover trainable weights from a shipped int8 ONNX reader, to continue training from it.

A dynamically quantised weight only says which bin of width ``scale`` the fine-tuned value fell
in; the bin's centre is the estimate (clipping the base model's value into the bin was tried: it
undoes the fine-tuning, whose many sub-bin moves add up). Biases and LayerNorm are stored in fp32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _array(initializer) -> np.ndarray:
    from onnx import numpy_helper

    return numpy_helper.to_array(initializer)


def _consumers(graph) -> dict[str, list]:
    users: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    return users


def _bias_after(node, users: dict[str, list], biases: set[str], depth: int = 6) -> str | None:
    """The named ``*.bias`` initializer added to a MatMul's output a few nodes downstream."""
    frontier = [node]
    for _ in range(depth):
        following = [u for n in frontier for out in n.output for u in users.get(out, [])]
        for u in following:
            if u.op_type == "Add":
                named = [i for i in u.input if i in biases]
                if named:
                    return named[0]
        frontier = following
    return None


def quantised_weights(path: Path) -> dict[str, tuple[np.ndarray, float]]:
    """``{torch parameter name: (dequantised weight in torch layout, bin width)}`` plus fp32 tensors (width 0)."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    init = {i.name: i for i in graph.initializer}
    biases = {n for n in init if n.endswith(".bias")}
    users = _consumers(graph)

    def dequantised(stem: str) -> tuple[np.ndarray, float]:
        q = _array(init[stem + "_quantized"]).astype(np.float32)
        scale = _array(init[stem + "_scale"]).astype(np.float32)
        zero = _array(init[stem + "_zero_point"]).astype(np.float32)
        if scale.ndim == 1 and q.ndim == 2:  # per channel: one scale per output (or input) row
            axis_shape = (1, -1) if scale.shape[0] == q.shape[1] else (-1, 1)
            scale, zero = scale.reshape(axis_shape), zero.reshape(axis_shape)
        return (q - zero) * scale, float(np.max(scale))

    weights: dict[str, tuple[np.ndarray, float]] = {}
    for name, tensor in init.items():
        if not name.endswith(("_quantized", "_scale", "_zero_point")):
            weights[name] = (_array(tensor).astype(np.float32), 0.0)
        elif name.endswith("_quantized") and name.startswith("bert.embeddings."):
            weights[name[: -len("_quantized")]] = dequantised(name[: -len("_quantized")])
    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        stem = node.input[1][: -len("_quantized")]
        bias = _bias_after(node, users, biases)
        if bias is None:
            raise ValueError(f"cannot place the weight {stem} of {path}: no named bias follows it")
        value, scale = dequantised(stem)
        weights[bias[: -len(".bias")] + ".weight"] = (value.T.copy(), scale)  # ONNX [in, out] -> torch [out, in]
    return weights


def load_into(model, path: Path) -> int:
    """Overwrite ``model``'s parameters (a BertForQuestionAnswering on the base encoder) from ``path``."""
    import torch

    recovered = quantised_weights(path)
    state = model.state_dict()
    for name, (value, _) in recovered.items():
        if name not in state:
            raise ValueError(f"{path} has a tensor {name} that the model does not")
        if tuple(state[name].shape) != value.shape:
            raise ValueError(f"{name}: shape {value.shape} in {path}, {tuple(state[name].shape)} in the model")
        state[name] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    missing = [n for n in state if n not in recovered and not n.endswith("position_ids")]
    if missing:
        raise ValueError(f"{path} lacks {missing[:3]}")
    model.load_state_dict(state)
    return len(recovered)
