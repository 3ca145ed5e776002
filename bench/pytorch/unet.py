"""diffusers' UNet2DModel written from its specification (not diffusers: it is not installed), for the side-by-side
benchmark: it loads the same config.json + diffusion_pytorch_model.safetensors as Diffuse and computes the same
function (checked against `diffuse forward` before any timing).

Covers what the shipped and the DDPM CIFAR-10 models use: positional time embedding, DownBlock2D, AttnDownBlock2D,
UNetMidBlock2D, UpBlock2D, AttnUpBlock2D, ResnetBlock2D with resnet_time_scale_shift "default", attention with
group_norm (current names to_q/to_k/to_v/to_out.0 and legacy query/key/value/proj_attn), conv down/upsampling
(downsample_padding 0 = diffusers' asymmetric pad), an optional class-embedding table.
"""
import json
import math

import torch
import torch.nn.functional as F
from torch import nn

from safetensors_io import read


class Resnet(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps, scale=1.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.scale = scale

    def forward(self, x, semb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(semb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        r = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        return (r + h) / self.scale


class Attention(nn.Module):
    """GroupNorm, q/k/v projections over tokens, softmax(q k^T / sqrt(d)) v per head, output projection, residual."""

    def __init__(self, c, head_dim, groups, eps, rescale=1.0):
        super().__init__()
        self.heads = c // head_dim if head_dim else 1
        self.group_norm = nn.GroupNorm(groups, c, eps=eps)
        self.to_q, self.to_k, self.to_v = nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c)
        self.to_out = nn.ModuleList([nn.Linear(c, c)])
        self.rescale = rescale

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.group_norm(x).reshape(b, c, h * w).transpose(1, 2)            # (B, N, C)
        d = c // self.heads

        def split(p):                                                          # (B, heads, N, d)
            return p(t).reshape(b, h * w, self.heads, d).transpose(1, 2)
        q, k, v = split(self.to_q), split(self.to_k), split(self.to_v)
        att = torch.softmax(q @ k.transpose(-1, -2) * (1.0 / math.sqrt(d)), dim=-1)  # no sdpa in torch 1.13
        o = (att @ v).transpose(1, 2).reshape(b, h * w, c)
        y = self.to_out[0](o).transpose(1, 2).reshape(b, c, h, w)
        return (y + x) / self.rescale


class Block(nn.Module):
    """A down or up block: resnets (each followed by its attention in Attn* blocks) and an optional resampler."""

    def __init__(self, resnets, attentions, resampler):
        super().__init__()
        self.resnets = nn.ModuleList(resnets)
        self.attentions = nn.ModuleList(attentions) if attentions else None
        self.resampler = resampler


class Downsample(nn.Module):
    def __init__(self, c, padding):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=padding)
        self.asymmetric = padding == 0

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)) if self.asymmetric else x)


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class UNet2DModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        ch = cfg["block_out_channels"]
        c0, temb = ch[0], cfg.get("time_embedding_dim") or 4 * ch[0]
        g, eps, L = cfg.get("norm_num_groups", 32), cfg.get("norm_eps", 1e-5), cfg.get("layers_per_block", 2)
        head = cfg.get("attention_head_dim", 8)
        mid_scale = cfg.get("mid_block_scale_factor", 1)
        if cfg.get("time_embedding_type", "positional") != "positional" or cfg.get("resnet_time_scale_shift", "default") != "default":
            raise ValueError("this benchmark U-Net supports positional time embeddings and resnet_time_scale_shift 'default'")
        self.conv_in = nn.Conv2d(cfg.get("in_channels", 3), c0, 3, padding=1)
        self.time_embedding = nn.Module()
        self.time_embedding.linear_1 = nn.Linear(c0, temb)
        self.time_embedding.linear_2 = nn.Linear(temb, temb)
        n = cfg.get("num_class_embeds")
        self.class_embedding = nn.Embedding(n, temb) if n else None
        self.down_blocks = nn.ModuleList()
        cout = c0
        for i, kind in enumerate(cfg["down_block_types"]):
            cin, cout = cout, ch[i]
            attn = kind.replace("UNetRes", "").startswith("Attn")
            res = [Resnet(cin if j == 0 else cout, cout, temb, g, eps) for j in range(L)]
            att = [Attention(cout, head, g, eps) for _ in range(L)] if attn else None
            down = Downsample(cout, cfg.get("downsample_padding", 1)) if i < len(ch) - 1 else None
            self.down_blocks.append(Block(res, att, down))
        c = ch[-1]
        self.mid_block = Block([Resnet(c, c, temb, g, eps, mid_scale), Resnet(c, c, temb, g, eps, mid_scale)],
                               [Attention(c, head, cfg.get("attn_norm_num_groups") or g, eps, mid_scale)], None)
        rev = list(reversed(ch))
        self.up_blocks = nn.ModuleList()
        for i, kind in enumerate(cfg["up_block_types"]):
            cprev, cout, cskip = rev[max(i - 1, 0)], rev[i], rev[min(i + 1, len(ch) - 1)]
            attn = kind.replace("UNetRes", "").startswith("Attn")
            res = [Resnet((cprev if j == 0 else cout) + (cskip if j == L else cout), cout, temb, g, eps) for j in range(L + 1)]
            att = [Attention(cout, head, g, eps) for _ in range(L + 1)] if attn else None
            self.up_blocks.append(Block(res, att, Upsample(cout) if i < len(ch) - 1 else None))
        self.conv_norm_out = nn.GroupNorm(g, c0, eps=eps)
        self.conv_out = nn.Conv2d(c0, cfg.get("out_channels", 3), 3, padding=1)

    def time_proj(self, t):
        c0 = self.cfg["block_out_channels"][0]
        half = c0 // 2
        exponent = -math.log(10000.0) * torch.arange(half, dtype=torch.float32) / (half - self.cfg.get("freq_shift", 0))
        arg = t.float()[:, None] * torch.exp(exponent)[None, :]
        emb = torch.cat([torch.sin(arg), torch.cos(arg)], dim=-1)
        if self.cfg.get("flip_sin_to_cos", True):
            emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
        return F.pad(emb, (0, 1)) if c0 % 2 else emb

    def forward(self, x, t, labels=None):
        if self.cfg.get("center_input_sample", False):
            x = 2 * x - 1
        emb = self.time_embedding.linear_2(F.silu(self.time_embedding.linear_1(self.time_proj(t))))
        if self.class_embedding is not None:
            emb = emb + self.class_embedding(labels.long())
        semb = F.silu(emb)   # every resnet applies SiLU to emb; computed once
        h = self.conv_in(x)
        skips = [h]
        for blk in self.down_blocks:
            for j, r in enumerate(blk.resnets):
                h = r(h, semb)
                if blk.attentions is not None:
                    h = blk.attentions[j](h)
                skips.append(h)
            if blk.resampler is not None:
                h = blk.resampler(h)
                skips.append(h)
        h = self.mid_block.resnets[0](h, semb)
        h = self.mid_block.attentions[0](h)
        h = self.mid_block.resnets[1](h, semb)
        for blk in self.up_blocks:
            for j, r in enumerate(blk.resnets):
                h = r(torch.cat([h, skips.pop()], dim=1), semb)
                if blk.attentions is not None:
                    h = blk.attentions[j](h)
            if blk.resampler is not None:
                h = blk.resampler(h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


LEGACY = {"query.": "to_q.", "key.": "to_k.", "value.": "to_v.", "proj_attn.": "to_out.0."}


def load(folder):
    """The model in a diffusers folder (config.json + diffusion_pytorch_model.safetensors), weights loaded strictly."""
    with open(f"{folder}/config.json") as f:
        cfg = json.load(f)
    model = UNet2DModel(cfg)
    state = {}
    for k, v in read(f"{folder}/diffusion_pytorch_model.safetensors").items():
        for old, new in LEGACY.items():
            if ".attentions." in k and f".{old}" in k:
                k = k.replace(f".{old}", f".{new}")
        state[k.replace(".downsamplers.0.", ".resampler.").replace(".upsamplers.0.", ".resampler.")] = v
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{folder}: weights do not match the config: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model.eval()
