"""Our torch implementation of the FASHN VTON v1.5 generator (an MMDiT working in pixel space).

Written from the architecture's published facts; the attribute names follow the
upstream checkpoint's parameter names so that the operator's ``model.safetensors``
loads with ``strict=True``. Facts and where they come from (upstream repository
``fashn-AI/fashn-vton-1.5``, read only, Apache-2.0):

- ``src/fashn_vton/tryon_mmdit.py`` ``TryOnModel.__init__`` defaults: input 864x576,
  hidden 1280, 10 heads, 8 double-stream + 16 single-stream blocks, MLP ratio 4,
  patch 12, RoPE theta 10000 over axes (16, 56, 56), qkv bias on, 3 garment
  classes (+1 null class 0), 4 single-stream "patch mixer" blocks over the
  person stream alone, no guidance embedder.
- Person stream input: noisy image (3) + clothing-agnostic image (3) + pose (1)
  = 7 channels; garment stream: garment (3) + garment pose (1) = 4 channels, each
  a stride-12 convolution (a patch embedding, no norm).
- Position ids per token: (0, row, col); both streams use the same ids, so the
  joint sequence's rotary table is the per-stream table twice.
- Time embedding: sinusoidal of 1000*t over 256 dims (cos first, then sin), then
  Linear-SiLU-Linear; the category embedding is added to it.
- Modulation: Linear(SiLU(vec)) into 6 (double) or 3 (single) chunks of
  shift, scale, gate; LayerNorms without affine, eps 1e-6; QK RMSNorm eps 1e-6
  computed in float32; GELU with tanh approximation.
- Final layer: adaLN (shift, scale) then a Linear to 3*12*12 per token, unpacked
  as (c, p1, p2) into the image.
- Classifier-free guidance: the unconditional pass zeroes the clothing-agnostic
  image, the garment image, both pose images, and uses category 0; the noisy
  image is kept (``apply_conditional_dropout`` in the same file).

torch is never a runtime dependency of the service: this package is used by
``tools/export_fashn_vton.py`` and the torch-side tests only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class MMDiTConfig:
    height: int = 864
    width: int = 576
    hidden_size: int = 1280
    num_heads: int = 10
    double_blocks: int = 8
    single_blocks: int = 16
    patch_mixer_blocks: int = 4
    mlp_ratio: int = 4
    channels: int = 3
    patch_size: int = 12
    theta: int = 10000
    axes_dim: tuple[int, int, int] = (16, 56, 56)
    num_classes: int = 3
    time_embed_dim: int = 256

    def __post_init__(self) -> None:
        head_dim = self.hidden_size // self.num_heads
        if sum(self.axes_dim) != head_dim or any(a % 2 for a in self.axes_dim):
            raise ValueError(f"axes_dim {self.axes_dim} must be even and sum to the head size {head_dim}")
        if self.height % self.patch_size or self.width % self.patch_size:
            raise ValueError("the input size must be a multiple of the patch size")

    @property
    def grid(self) -> tuple[int, int]:
        return self.height // self.patch_size, self.width // self.patch_size

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["axes_dim"] = list(self.axes_dim)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> MMDiTConfig:
        d = dict(d)
        d["axes_dim"] = tuple(d["axes_dim"])  # type: ignore[arg-type]
        return cls(**d)  # type: ignore[arg-type]


FULL = MMDiTConfig()
# A reduced configuration with the same structure (every kind of block present,
# patch 12, 3 RoPE axes) for tests: about 0.4 M parameters, 12x8 tokens per stream.
TINY = MMDiTConfig(
    height=144,
    width=96,
    hidden_size=64,
    num_heads=2,
    double_blocks=2,
    single_blocks=2,
    patch_mixer_blocks=1,
    axes_dim=(8, 12, 12),
)


def rope_table(config: MMDiTConfig) -> Tensor:
    """Rotation matrices per token and frequency, shape (1, 1, L, head_dim/2, 2, 2), float32.

    Positions are fixed for a fixed input size, so the table is computed once
    here in float64 (as upstream does per call) and becomes a constant of the
    exported graph: ONNX Runtime's Einsum refuses float64, and a constant needs no
    Einsum at all.
    """
    rows, cols = config.grid
    ids = torch.zeros(rows, cols, 3, dtype=torch.float64)
    ids[..., 1] += torch.arange(rows, dtype=torch.float64)[:, None]
    ids[..., 2] += torch.arange(cols, dtype=torch.float64)[None, :]
    ids = ids.reshape(rows * cols, 3)
    parts = []
    for axis, dim in enumerate(config.axes_dim):
        omega = 1.0 / (config.theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
        angles = ids[:, axis, None] * omega[None, :]  # (L, dim/2)
        cos, sin = torch.cos(angles), torch.sin(angles)
        parts.append(torch.stack([cos, -sin, sin, cos], dim=-1).reshape(rows * cols, dim // 2, 2, 2))
    return torch.cat(parts, dim=1)[None, None].float()


# The rotation table as its two columns, (1, 1, L, D/2, 2) each: used as they are, they stay two shared
# initializers in the ONNX graph. Slicing one table inside every block instead makes the exporter fold a
# copy per use: 385 MB of duplicated constants at full size.
Rope = tuple[Tensor, Tensor]


def split_rope(table: Tensor) -> Rope:
    return table[..., 0].contiguous(), table[..., 1].contiguous()


def apply_rope(x: Tensor, rope: Rope) -> Tensor:
    """Rotate consecutive pairs of ``x`` (B, H, L, D) by the table's columns (see :func:`rope_table`), in float32."""
    pairs = x.float().reshape(*x.shape[:-1], -1, 1, 2)
    out = rope[0] * pairs[..., 0] + rope[1] * pairs[..., 1]
    return out.reshape(x.shape).type_as(x)


def attention(q: Tensor, k: Tensor, v: Tensor, table: Rope) -> Tensor:
    q, k = apply_rope(q, table), apply_rope(k, table)
    out = F.scaled_dot_product_attention(q, k, v)  # (B, H, L, D)
    b, h, seq, d = out.shape
    return out.transpose(1, 2).reshape(b, seq, h * d)


def split_heads(qkv: Tensor, num_heads: int) -> tuple[Tensor, Tensor, Tensor]:
    """(B, L, 3*H*D) laid out as (K, H, D) -> three (B, H, L, D)."""
    b, seq, three_hd = qkv.shape
    x = qkv.reshape(b, seq, 3, num_heads, three_hd // (3 * num_heads)).permute(2, 0, 3, 1, 4)
    return x[0], x[1], x[2]


class RMSNorm(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        x32 = x.float()
        normed = x32 * torch.rsqrt(torch.mean(x32 * x32, dim=-1, keepdim=True) + 1e-6)
        return normed.to(x.dtype) * self.scale


class QKNorm(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.query_norm = RMSNorm(dim)
        self.key_norm = RMSNorm(dim)

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        return self.query_norm(q).to(v), self.key_norm(k).to(v)


class Modulation(nn.Module):
    """shift, scale, gate (x2 for a double block) from the conditioning vector."""

    def __init__(self, dim: int, double: bool) -> None:
        super().__init__()
        self.chunks = 6 if double else 3
        self.lin = nn.Linear(dim, self.chunks * dim, bias=True)

    def forward(self, vec: Tensor) -> tuple[Tensor, ...]:
        return tuple(self.lin(F.silu(vec))[:, None, :].chunk(self.chunks, dim=-1))


class StreamAttention(nn.Module):
    """The qkv projection, QK norm and output projection of one stream (the attention itself is joint)."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool) -> None:
        super().__init__()
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.norm = QKNorm(dim // num_heads)
        self.proj = nn.Linear(dim, dim)


def _mlp(hidden: int, ratio: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(hidden, hidden * ratio, bias=True),
        nn.GELU(approximate="tanh"),
        nn.Linear(hidden * ratio, hidden, bias=True),
    )


def _layer_norm(hidden: int) -> nn.LayerNorm:
    return nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)


class DoubleStreamBlock(nn.Module):
    """Person ("img") and garment ("txt") streams with their own weights, attending jointly."""

    def __init__(self, hidden: int, num_heads: int, mlp_ratio: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.img_mod = Modulation(hidden, double=True)
        self.img_norm1 = _layer_norm(hidden)
        self.img_attn = StreamAttention(hidden, num_heads, qkv_bias=True)
        self.img_norm2 = _layer_norm(hidden)
        self.img_mlp = _mlp(hidden, mlp_ratio)
        self.txt_mod = Modulation(hidden, double=True)
        self.txt_norm1 = _layer_norm(hidden)
        self.txt_attn = StreamAttention(hidden, num_heads, qkv_bias=True)
        self.txt_norm2 = _layer_norm(hidden)
        self.txt_mlp = _mlp(hidden, mlp_ratio)

    def _qkv(self, x: Tensor, norm: nn.LayerNorm, attn: StreamAttention, shift: Tensor, scale: Tensor) -> tuple:
        q, k, v = split_heads(attn.qkv((1 + scale) * norm(x) + shift), self.num_heads)
        q, k = attn.norm(q, k, v)
        return q, k, v

    def forward(self, img: Tensor, txt: Tensor, vec: Tensor, table: Rope) -> tuple[Tensor, Tensor]:
        i_shift1, i_scale1, i_gate1, i_shift2, i_scale2, i_gate2 = self.img_mod(vec)
        t_shift1, t_scale1, t_gate1, t_shift2, t_scale2, t_gate2 = self.txt_mod(vec)
        iq, ik, iv = self._qkv(img, self.img_norm1, self.img_attn, i_shift1, i_scale1)
        tq, tk, tv = self._qkv(txt, self.txt_norm1, self.txt_attn, t_shift1, t_scale1)
        # Joint attention over [garment tokens, person tokens].
        joint = attention(torch.cat((tq, iq), 2), torch.cat((tk, ik), 2), torch.cat((tv, iv), 2), table)
        n_txt = txt.shape[1]
        txt_out, img_out = joint[:, :n_txt], joint[:, n_txt:]
        img = img + i_gate1 * self.img_attn.proj(img_out)
        img = img + i_gate2 * self.img_mlp((1 + i_scale2) * self.img_norm2(img) + i_shift2)
        txt = txt + t_gate1 * self.txt_attn.proj(txt_out)
        txt = txt + t_gate2 * self.txt_mlp((1 + t_scale2) * self.txt_norm2(txt) + t_shift2)
        return img, txt


class SingleStreamBlock(nn.Module):
    """One sequence, attention and MLP computed in parallel from one fused input projection."""

    def __init__(self, hidden: int, num_heads: int, mlp_ratio: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.hidden = hidden
        self.mlp_hidden = hidden * mlp_ratio
        self.linear1 = nn.Linear(hidden, hidden * 3 + self.mlp_hidden)
        self.linear2 = nn.Linear(hidden + self.mlp_hidden, hidden)
        self.norm = QKNorm(hidden // num_heads)
        self.pre_norm = _layer_norm(hidden)
        self.mlp_act = nn.GELU(approximate="tanh")
        self.modulation = Modulation(hidden, double=False)

    def forward(self, x: Tensor, vec: Tensor, table: Rope) -> Tensor:
        shift, scale, gate = self.modulation(vec)
        fused = self.linear1((1 + scale) * self.pre_norm(x) + shift)
        qkv, mlp = torch.split(fused, [3 * self.hidden, self.mlp_hidden], -1)
        q, k, v = split_heads(qkv, self.num_heads)
        q, k = self.norm(q, k, v)
        out = self.linear2(torch.cat((attention(q, k, v, table), self.mlp_act(mlp)), 2))
        return x + gate * out


class LastLayer(nn.Module):
    def __init__(self, hidden: int, out_channels: int) -> None:
        super().__init__()
        self.norm_final = _layer_norm(hidden)
        self.linear = nn.Linear(hidden, out_channels, bias=True)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 2 * hidden, bias=True))

    def forward(self, x: Tensor, vec: Tensor) -> Tensor:
        shift, scale = self.adaLN_modulation(vec).chunk(2, dim=1)
        return self.linear((1 + scale[:, None, :]) * self.norm_final(x) + shift[:, None, :])


class MLPEmbedder(nn.Module):
    def __init__(self, in_dim: int, hidden: int) -> None:
        super().__init__()
        self.in_layer = nn.Linear(in_dim, hidden, bias=True)
        self.silu = nn.SiLU()
        self.out_layer = nn.Linear(hidden, hidden, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.out_layer(self.silu(self.in_layer(x)))


class TimestepEmbedder(nn.Module):
    def __init__(self, hidden: int, freq_dim: int) -> None:
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = MLPEmbedder(freq_dim, hidden)

    def forward(self, t: Tensor) -> Tensor:
        half = self.freq_dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
        args = (1000.0 * t)[:, None].float() * freqs[None]
        emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1).to(t.dtype)
        return self.mlp(emb)


class PatchEmbed(nn.Module):
    def __init__(self, in_channels: int, hidden: int, patch: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, hidden, kernel_size=patch, stride=patch, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)  # (B, rows*cols, hidden), row-major tokens


class FashnMMDiT(nn.Module):
    """The generator: velocity of the rectified flow for one batch of (noisy image, conditions, time)."""

    def __init__(self, config: MMDiTConfig = FULL) -> None:
        super().__init__()
        c = config
        self.config = c
        self.t_embedder = TimestepEmbedder(c.hidden_size, c.time_embed_dim)
        self.y_embedder = nn.Embedding(c.num_classes + 1, c.hidden_size)
        self.x_embedder = PatchEmbed(c.channels * 2 + 1, c.hidden_size, c.patch_size)
        self.garment_embedder = PatchEmbed(c.channels + 1, c.hidden_size, c.patch_size)
        self.x_patch_mixer = nn.ModuleList(
            [SingleStreamBlock(c.hidden_size, c.num_heads, c.mlp_ratio) for _ in range(c.patch_mixer_blocks)]
        )
        # Present in the checkpoint (upstream keeps it "for checkpoint compatibility"), unused at inference.
        self.register_buffer("patch_mixer_token", torch.zeros(1, 1, c.channels * c.patch_size**2))
        self.double_blocks = nn.ModuleList(
            [DoubleStreamBlock(c.hidden_size, c.num_heads, c.mlp_ratio) for _ in range(c.double_blocks)]
        )
        self.single_blocks = nn.ModuleList(
            [SingleStreamBlock(c.hidden_size, c.num_heads, c.mlp_ratio) for _ in range(c.single_blocks)]
        )
        self.final_layer = LastLayer(c.hidden_size, c.channels * c.patch_size**2)
        # Not in the checkpoint (persistent=False): computed from the configuration.
        stream_a, stream_b = split_rope(rope_table(c))
        self.register_buffer("rope_stream_a", stream_a, persistent=False)
        self.register_buffer("rope_stream_b", stream_b, persistent=False)
        self.register_buffer("rope_joint_a", torch.cat([stream_a, stream_a], dim=2), persistent=False)
        self.register_buffer("rope_joint_b", torch.cat([stream_b, stream_b], dim=2), persistent=False)

    def forward(
        self,
        x: Tensor,
        t: Tensor,
        ca_image: Tensor,
        garment: Tensor,
        person_pose: Tensor,
        garment_pose: Tensor,
        category: Tensor,
    ) -> Tensor:
        """Velocity (B, 3, H, W). Images in [-1, 1]; pose images 1 channel; category int (0 = none)."""
        c = self.config
        img = self.x_embedder(torch.cat([x, ca_image, person_pose], dim=1))
        txt = self.garment_embedder(torch.cat([garment, garment_pose], dim=1))
        vec = self.t_embedder(t) + self.y_embedder(category)
        # Kept float32 whatever the weights' dtype: apply_rope works in float32.
        stream, joint = (self.rope_stream_a, self.rope_stream_b), (self.rope_joint_a, self.rope_joint_b)
        for block in self.x_patch_mixer:
            img = block(img, vec, stream)
        for block in self.double_blocks:
            img, txt = block(img, txt, vec, joint)
        n_txt = txt.shape[1]
        seq = torch.cat((txt, img), 1)
        for block in self.single_blocks:
            seq = block(seq, vec, joint)
        out = self.final_layer(seq[:, n_txt:], vec)  # (B, rows*cols, 3*p*p)
        rows, cols = c.grid
        p = c.patch_size
        out = out.reshape(out.shape[0], rows, cols, c.channels, p, p)
        return out.permute(0, 3, 1, 4, 2, 5).reshape(out.shape[0], c.channels, rows * p, cols * p)


class GuidedEulerStep(nn.Module):
    """One Euler step with classifier-free guidance: the graph the serving engine runs per step.

    The conditional and unconditional passes run as one batch of two. The state
    ``x`` stays float32 whatever the generator's dtype, so a half-precision
    generator only changes the velocity, not the accumulation over steps.
    Output: ``x + dt * (v_u + guidance * (v_c - v_u))``.
    """

    def __init__(self, model: FashnMMDiT) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        x: Tensor,
        t: Tensor,
        dt: Tensor,
        guidance: Tensor,
        ca_image: Tensor,
        garment: Tensor,
        person_pose: Tensor,
        garment_pose: Tensor,
        category: Tensor,
    ) -> Tensor:
        dtype = self.model.final_layer.linear.weight.dtype

        def pair(cond: Tensor) -> Tensor:
            return torch.cat([cond, torch.zeros_like(cond)], dim=0).to(dtype)

        v = self.model(
            torch.cat([x, x], dim=0).to(dtype),
            torch.cat([t, t], dim=0).to(dtype),
            pair(ca_image),
            pair(garment),
            pair(person_pose),
            pair(garment_pose),
            torch.cat([category, torch.zeros_like(category)], dim=0),
        ).float()
        v_c, v_u = v[0:1], v[1:2]
        return x + dt.reshape(1, 1, 1, 1) * (v_u + guidance.reshape(1, 1, 1, 1) * (v_c - v_u))


STEP_INPUTS = ("x", "t", "dt", "guidance", "ca_image", "garment", "person_pose", "garment_pose", "category")
STEP_OUTPUTS = ("x_next",)


def step_input_shapes(config: MMDiTConfig) -> dict[str, tuple[list[int], str]]:
    """name -> (shape, dtype) of the step graph's inputs (batch 1: one sample per order)."""
    h, w = config.height, config.width
    return {
        "x": ([1, 3, h, w], "float32"),
        "t": ([1], "float32"),
        "dt": ([1], "float32"),
        "guidance": ([1], "float32"),
        "ca_image": ([1, 3, h, w], "float32"),
        "garment": ([1, 3, h, w], "float32"),
        "person_pose": ([1, 1, h, w], "float32"),
        "garment_pose": ([1, 1, h, w], "float32"),
        "category": ([1], "int64"),
    }


def random_init(model: FashnMMDiT, seed: int) -> None:
    """Random weights for tests and timing, scaled so activations stay O(1) through every block.

    Plain default init leaves the modulation gates near zero, which would hide
    bugs in the blocks; small normal weights everywhere (biases and norm scales
    included) exercise every path.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(".scale"):
                param.copy_(1.0 + 0.1 * torch.randn(param.shape, generator=gen))
            elif param.ndim == 1:
                param.copy_(0.02 * torch.randn(param.shape, generator=gen))
            else:
                fan_in = param[0].numel() if param.ndim > 1 else 1
                std = 1.0 / math.sqrt(fan_in) if not name.startswith("y_embedder") else 1.0
                param.copy_(std * torch.randn(param.shape, generator=gen))
