#!/usr/bin/env python3
"""Training-equality reference: N AdamW steps of the paper's LoRA (or linear-probe) training in
PyTorch, from the same checkpoint, the same initial adapter and head and the same input tensors
as `cytotune train`, so scripts/training-equality/run.ts can compare losses and final weights.

The model code is the parity-fixture code (test/fixtures/ml/make_parity_fixtures.py: the tiny
models written after openai/CLIP, transformers, timm and open_clip), loaded from the fixture's
safetensors file. LoRA follows the paper's loralib (mdausort/Cytology-fine-tuning, after
CLIP-LoRA), re-written here:
  * LinearLoRA: y = W x + b + s * B A dropout(x), s = alpha / sqrt(r); without dropout loralib
    computes the merged form F.linear(x, W + s B A, b), and so does this file;
  * packed attention (OpenAI CLIP in_proj, timm qkv) is split by rows into q, k, v linears and
    the output projection kept as "o"; attention is plain multi-head softmax(q k^T / sqrt(d)) v
    (torch 1.13 has no F.scaled_dot_product_attention). The reference code's timm wrapper drops
    the head split and the output projection (a known defect CytoTune does not copy); this file
    is the corrected attention, i.e. timm's own;
  * Google ViT "o" is attention.output.dense (the reference attaches it to the wrong module).
Head: nn.Linear(D, C) on the embedding. Loss: F.cross_entropy (mean). Optimiser: torch.optim.AdamW
(betas, eps, weight decay), schedule pytorch_warmup.LinearWarmup(W) around
CosineAnnealingLR(T_max = steps - W, eta_min) stepped only after the warm-up (CFT lora.py), with
LinearWarmup re-implemented as in test/fixtures/ml/make_adamw_schedule_fixture.py. GradScaler is
a no-op on the CPU and autocast is off (fp32), as CytoTune. Batches are given (the runner draws
them with CytoTune's seeded sampler), so both see the same images in every step.

Usage: /usr/bin/python3 scripts/training-equality/reference.py CASE.json
CASE.json: {checkpoint, family, tensor, labels, batches, method, rank, alpha, targets, lr,
warmup, minLr, weightDecay, beta1, beta2, eps, initAdapter, initHead, out}. Writes OUT/result.json
(losses, lrs per step) and OUT/final.safetensors (blocks.N.T.lora_A/B, head.weight, head.bias).
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "fixtures", "ml"))
import make_parity_fixtures as M  # noqa: E402  (the tiny models' code)

torch.set_grad_enabled(True)  # the fixture module turns gradients off when imported

DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


# ---------------------------------------------------------------------------------------------
class LinearLoRA(nn.Module):
    """A frozen nn.Linear plus the trainable low-rank branch, loralib's arithmetic."""

    def __init__(self, base, r, alpha, dropout):
        super().__init__()
        self.weight = nn.Parameter(base.weight.detach().clone(), requires_grad=False)
        self.bias = None if base.bias is None else nn.Parameter(base.bias.detach().clone(), requires_grad=False)
        self.lora_A = nn.Parameter(torch.zeros(r, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        self.scaling = alpha / math.sqrt(r)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None

    def forward(self, x):
        delta = (self.lora_B @ self.lora_A) * self.scaling
        if self.dropout is None:
            return F.linear(x, self.weight + delta, self.bias)
        y = F.linear(x, self.weight, self.bias)
        return y + self.dropout(x) @ delta.t()


def linear_from(weight, bias):
    lin = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    with torch.no_grad():
        lin.weight.copy_(weight)
        if bias is not None:
            lin.bias.copy_(bias)
    return lin


def attention(q, k, v, heads):
    """[B, N, C] each -> multi-head attention output [B, N, C]."""
    b, n, c = q.shape
    d = c // heads
    split = lambda t: t.reshape(b, n, heads, d).transpose(1, 2)
    a = torch.softmax((split(q) @ split(k).transpose(-1, -2)) / math.sqrt(d), dim=-1)
    return (a @ split(v)).transpose(1, 2).reshape(b, n, c)


class SplitAttentionLoRA(nn.Module):
    """Packed q,k,v weights split by rows into four linears; `batch_first` False is OpenAI CLIP's (L, N, D)."""

    def __init__(self, qkv_w, qkv_b, out, heads, batch_first):
        super().__init__()
        e = qkv_w.shape[1]
        b = (lambda i: qkv_b[i * e:(i + 1) * e]) if qkv_b is not None else (lambda i: None)
        self.q, self.k, self.v = (linear_from(qkv_w[i * e:(i + 1) * e], b(i)) for i in range(3))
        self.o = linear_from(out.weight.detach(), None if out.bias is None else out.bias.detach())
        self.heads, self.batch_first = heads, batch_first

    def forward(self, x, *_args, **_kwargs):
        if not self.batch_first:
            x = x.transpose(0, 1)
        y = self.o(attention(self.q(x), self.k(x), self.v(x), self.heads))
        if not self.batch_first:
            y = y.transpose(0, 1)
        # nn.MultiheadAttention returns (output, weights); timm's Attention returns the output.
        return (y, None) if not self.batch_first else y


class SeparateAttentionLoRA(nn.Module):
    """Separate q, k, v, o linears (Hugging Face CLIP and ViT)."""

    def __init__(self, q, k, v, o, heads):
        super().__init__()
        self.q, self.k, self.v, self.o = q, k, v, o
        self.heads = heads

    def forward(self, x):
        return self.o(attention(self.q(x), self.k(x), self.v(x), self.heads))


def wrap(lin, name, case):
    return LinearLoRA(lin, case["rank"], case["alpha"], case.get("dropout", 0.0)) if name in case["targets"] else lin


def build(case):
    """The fixture model with LoRA on case['targets'] of every block; returns (encoder, lora layers by (block, name))."""
    fam, heads = case["family"], M.HEADS
    sd = read_safetensors(case["checkpoint"])
    layers = {}

    def adapt(block, mod):
        for name in "qkvo":
            setattr(mod, name, wrap(getattr(mod, name), name, case))
            if isinstance(getattr(mod, name), LinearLoRA):
                layers[(block, name)] = getattr(mod, name)
        return mod

    if fam == "openai-clip":
        model = M.ClipWrapper()
        model.load_state_dict(sd)
        for i, blk in enumerate(model.visual.transformer.resblocks):
            a = blk.attn
            blk.attn = adapt(i, SplitAttentionLoRA(a.in_proj_weight.detach(), a.in_proj_bias.detach(), a.out_proj, heads, False))
        enc = model.visual
    elif fam in ("timm-vit", "open-clip-timm"):
        if fam == "timm-vit":
            model = M.TimmVisionTransformer(M.WIDTH, M.DEPTH, M.HEADS, init_values=1e-5)
            trunk, enc = model, model
        else:
            model = M.BiomedClipLike()
            trunk, enc = model.visual.trunk, model.visual
        model.load_state_dict(sd)
        for i, blk in enumerate(trunk.blocks):
            a = blk.attn
            bias = None if a.qkv.bias is None else a.qkv.bias.detach()
            blk.attn = adapt(i, SplitAttentionLoRA(a.qkv.weight.detach(), bias, a.proj, heads, True))
    elif fam == "hf-clip":
        model = M.HfClipVisionWithProjection()
        model.load_state_dict(sd)
        for i, layer in enumerate(model.vision_model.encoder.layers):
            a = layer.self_attn
            layer.self_attn = adapt(i, SeparateAttentionLoRA(a.q_proj, a.k_proj, a.v_proj, a.out_proj, heads))
        enc = model
    elif fam == "hf-vit":
        model = M.HfVitModel()
        model.load_state_dict(sd)
        for i, layer in enumerate(model.encoder.layer):
            sa, out = layer.attention.attention, layer.attention.output
            att = adapt(i, SeparateAttentionLoRA(sa.query, sa.key, sa.value, out.dense, heads))
            # HfVitLayer calls attention.output.dense(attention.attention(x)): the wrapper does both.
            layer.attention.attention = att
            layer.attention.output.dense = nn.Identity()
        enc = model
    else:
        raise SystemExit(f"unknown family {fam}")
    # With B = 0 the wrapped model must still be the fixture's model: check it on the fixture input.
    with torch.no_grad():
        probe = torch.from_numpy(np.load(os.path.join(M.OUT, "input.npy")))
        want = np.load(os.path.join(M.OUT, f"{fam}.expected.npy"))
        got = enc.eval()(probe).numpy()
        if not np.allclose(got, want, rtol=1e-4, atol=1e-5):
            raise SystemExit(f"{fam}: the LoRA-wrapped reference model differs from the fixture's output (max {np.abs(got - want).max()})")
    for p in model.parameters():
        p.requires_grad_(False)
    for lin in layers.values():
        lin.lora_A.requires_grad_(True)
        lin.lora_B.requires_grad_(True)
    return enc, layers


class LinearWarmup:
    """pytorch_warmup.LinearWarmup (base.py dampen / dampening): factor min(1, (step + 1) / period)."""

    def __init__(self, optimizer, period):
        self.optimizer, self.period, self.last_step = optimizer, period, -1
        self.lrs = [g["lr"] for g in optimizer.param_groups]
        self.dampen()

    def dampen(self):
        self.last_step += 1
        for g in self.optimizer.param_groups:
            g["lr"] *= min(1.0, (self.last_step + 1) / self.period) if self.period > 0 else 1.0

    def enter(self):
        for g, lr in zip(self.optimizer.param_groups, self.lrs):
            g["lr"] = lr

    def exit(self):
        self.lrs = [g["lr"] for g in self.optimizer.param_groups]
        self.dampen()


def save_safetensors(tensors, path):
    M.save_safetensors({k: v.detach().contiguous() for k, v in tensors.items()}, path)


def main():
    case = json.load(open(sys.argv[1]))
    torch.manual_seed(0)
    x = torch.from_numpy(np.load(case["tensor"]).astype(np.float32))
    y = torch.tensor(case["labels"], dtype=torch.long)
    enc, layers = build(case)
    enc.train()
    init_head = read_safetensors(case["initHead"])
    head = linear_from(init_head["head.weight"], init_head["head.bias"])
    if case["method"] == "lora":
        init = read_safetensors(case["initAdapter"])
        with torch.no_grad():
            for (b, n), lin in layers.items():
                lin.lora_A.copy_(init[f"blocks.{b}.{n}.lora_A"])
                lin.lora_B.copy_(init[f"blocks.{b}.{n}.lora_B"])
        params = [t for (_, lin) in sorted(layers.items()) for t in (lin.lora_A, lin.lora_B)] + list(head.parameters())
        forward = lambda idx: head(enc(x[idx]))
    else:
        # The linear probe: features of the frozen backbone once (no augmentation), then the head.
        with torch.no_grad():
            enc.eval()
            feats = enc(x)
        params = list(head.parameters())
        forward = lambda idx: head(feats[idx])

    opt = torch.optim.AdamW(params, lr=case["lr"], betas=(case["beta1"], case["beta2"]), eps=case["eps"],
                            weight_decay=case["weightDecay"])
    warmup = case["warmup"]
    steps = len(case["batches"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, steps - warmup), eta_min=case["minLr"])
    wu = LinearWarmup(opt, warmup)
    losses, lrs = [], []
    for idx in case["batches"]:
        idx = torch.tensor(idx, dtype=torch.long)
        lrs.append(opt.param_groups[0]["lr"])
        loss = F.cross_entropy(forward(idx), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        wu.enter()
        if wu.last_step + 1 >= warmup:
            sched.step()
        wu.exit()
        losses.append(loss.item())

    final = {"head.weight": head.weight, "head.bias": head.bias}
    for (b, n), lin in layers.items():
        if case["method"] == "lora":
            final[f"blocks.{b}.{n}.lora_A"] = lin.lora_A
            final[f"blocks.{b}.{n}.lora_B"] = lin.lora_B
    os.makedirs(case["out"], exist_ok=True)
    save_safetensors(final, os.path.join(case["out"], "final.safetensors"))
    with open(os.path.join(case["out"], "result.json"), "w") as f:
        json.dump({"losses": losses, "lrs": lrs, "torch": torch.__version__}, f)


if __name__ == "__main__":
    main()
