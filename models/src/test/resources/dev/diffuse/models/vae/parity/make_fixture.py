#!/usr/bin/python3
"""Writes the AutoencoderKL parity fixture for VaeParityTest: a small diffusers-layout VAE with random weights, two
input images, and what a plain-PyTorch implementation of diffusers' AutoencoderKL computes from them in float64
(encoder moments; decoder output for given latents). Written from the layout of diffusers' Encoder/Decoder
(DownEncoderBlock2D, UpDecoderBlock2D, UNetMidBlock2D with one attention head, GroupNorm eps 1e-6, Downsample2D's
(0, 1, 0, 1) pad + stride-2 conv, nearest 2x Upsample2D + conv, quant_conv / post_quant_conv); diffusers itself is not
installed here. Run with Debian's PyTorch 1.13:  /usr/bin/python3 make_fixture.py  (writes into this folder)."""
import json
import os
import struct

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = {"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [4, 8],
       "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"], "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"],
       "in_channels": 2, "out_channels": 2, "latent_channels": 2, "layers_per_block": 1, "norm_num_groups": 2,
       "sample_size": 8, "scaling_factor": 0.5, "mid_block_add_attention": True, "unknown_key_is_ignored": 1}
G, EPS, L = CFG["norm_num_groups"], 1e-6, CFG["latent_channels"]
gen = torch.Generator().manual_seed(1234)
P = {}


def randn(*shape, scale=1.0):
    return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale


def conv_p(name, cin, cout, k):
    P[name + ".weight"] = randn(cout, cin, k, k, scale=(cin * k * k) ** -0.5)
    P[name + ".bias"] = randn(cout, scale=0.1)


def norm_p(name, c):
    P[name + ".weight"] = 1 + randn(c, scale=0.2)
    P[name + ".bias"] = randn(c, scale=0.2)


def resnet_p(p, cin, cout):
    norm_p(p + ".norm1", cin); conv_p(p + ".conv1", cin, cout, 3)
    norm_p(p + ".norm2", cout); conv_p(p + ".conv2", cout, cout, 3)
    if cin != cout:
        conv_p(p + ".conv_shortcut", cin, cout, 1)


def attn_p(p, c):
    norm_p(p + ".group_norm", c)
    for n in ("to_q", "to_k", "to_v", "to_out.0"):
        P[p + "." + n + ".weight"] = randn(c, c, scale=c ** -0.5)
        P[p + "." + n + ".bias"] = randn(c, scale=0.1)


def mid_p(p, c):
    resnet_p(p + ".resnets.0", c, c); attn_p(p + ".attentions.0", c); resnet_p(p + ".resnets.1", c, c)


ch, n = CFG["block_out_channels"], len(CFG["block_out_channels"])
conv_p("encoder.conv_in", CFG["in_channels"], ch[0], 3)
prev = ch[0]
for i in range(n):
    for j in range(CFG["layers_per_block"]):
        resnet_p("encoder.down_blocks.%d.resnets.%d" % (i, j), prev if j == 0 else ch[i], ch[i])
    prev = ch[i]
    if i != n - 1:
        conv_p("encoder.down_blocks.%d.downsamplers.0.conv" % i, ch[i], ch[i], 3)
mid_p("encoder.mid_block", ch[-1])
norm_p("encoder.conv_norm_out", ch[-1]); conv_p("encoder.conv_out", ch[-1], 2 * L, 3)
conv_p("quant_conv", 2 * L, 2 * L, 1); conv_p("post_quant_conv", L, L, 1)
conv_p("decoder.conv_in", L, ch[-1], 3)
mid_p("decoder.mid_block", ch[-1])
rev = list(reversed(ch))
prev = rev[0]
for i in range(n):
    for j in range(CFG["layers_per_block"] + 1):
        resnet_p("decoder.up_blocks.%d.resnets.%d" % (i, j), prev if j == 0 else rev[i], rev[i])
    prev = rev[i]
    if i != n - 1:
        conv_p("decoder.up_blocks.%d.upsamplers.0.conv" % i, rev[i], rev[i], 3)
norm_p("decoder.conv_norm_out", ch[0]); conv_p("decoder.conv_out", ch[0], CFG["out_channels"], 3)


def conv(x, name, stride=1, pad=1):
    return F.conv2d(x, P[name + ".weight"], P[name + ".bias"], stride=stride, padding=pad)


def gn(x, name):
    return F.group_norm(x, G, P[name + ".weight"], P[name + ".bias"], eps=EPS)


def resnet(x, p):
    h = conv(F.silu(gn(x, p + ".norm1")), p + ".conv1")
    h = conv(F.silu(gn(h, p + ".norm2")), p + ".conv2")
    if p + ".conv_shortcut.weight" in P:
        x = conv(x, p + ".conv_shortcut", pad=0)
    return x + h


def attention(x, p):
    b, c, hh, ww = x.shape
    h = gn(x, p + ".group_norm").view(b, c, hh * ww).transpose(1, 2)
    q, k, v = (F.linear(h, P[p + "." + n + ".weight"], P[p + "." + n + ".bias"]) for n in ("to_q", "to_k", "to_v"))
    a = torch.softmax(q @ k.transpose(1, 2) / c ** 0.5, dim=-1) @ v   # one head of dim c
    o = F.linear(a, P[p + ".to_out.0.weight"], P[p + ".to_out.0.bias"])
    return o.transpose(1, 2).reshape(b, c, hh, ww) + x


def mid(x, p):
    return resnet(attention(resnet(x, p + ".resnets.0"), p + ".attentions.0"), p + ".resnets.1")


def encode(x):
    h = conv(x, "encoder.conv_in")
    for i in range(n):
        for j in range(CFG["layers_per_block"]):
            h = resnet(h, "encoder.down_blocks.%d.resnets.%d" % (i, j))
        if i != n - 1:
            h = conv(F.pad(h, (0, 1, 0, 1)), "encoder.down_blocks.%d.downsamplers.0.conv" % i, stride=2, pad=0)
    h = mid(h, "encoder.mid_block")
    h = conv(F.silu(gn(h, "encoder.conv_norm_out")), "encoder.conv_out")
    return conv(h, "quant_conv", pad=0)


def decode(z):
    h = conv(conv(z, "post_quant_conv", pad=0), "decoder.conv_in")
    h = mid(h, "decoder.mid_block")
    for i in range(n):
        for j in range(CFG["layers_per_block"] + 1):
            h = resnet(h, "decoder.up_blocks.%d.resnets.%d" % (i, j))
        if i != n - 1:
            h = conv(F.interpolate(h, scale_factor=2.0, mode="nearest"), "decoder.up_blocks.%d.upsamplers.0.conv" % i)
    return conv(F.silu(gn(h, "decoder.conv_norm_out")), "decoder.conv_out")


def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        data = t.to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


x = randn(2, CFG["in_channels"], 8, 8).clamp(-1, 1)
with torch.no_grad():
    moments = encode(x)
    z = moments[:, :L] + 0.3 * randn(*moments[:, :L].shape)
    recon = decode(z)
write_safetensors(os.path.join(HERE, "diffusion_pytorch_model.safetensors"), {k: v for k, v in P.items()})
write_safetensors(os.path.join(HERE, "io.safetensors"), {"x": x, "moments": moments, "z": z, "recon": recon})
with open(os.path.join(HERE, "config.json"), "w") as f:
    json.dump(CFG, f, indent=2, sort_keys=True)
print("parameters:", sum(v.numel() for v in P.values()), " moments", tuple(moments.shape), " recon", tuple(recon.shape))
