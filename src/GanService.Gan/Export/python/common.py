"""A generator exported by GanService, rebuilt in PyTorch.

Reads config.json (the architecture and sampling conventions) and the weights (generator.safetensors, or
generator.pt where the export was asked for in PyTorch's format), builds the network with the same layer names as
the service, and loads the weights strictly, so any mismatch is an error.
Images are float tensors [N, C, H, W] in [-1, 1], RGB or grey; latents are N(0, 1) of shape [N, latent_size].
Only torch is needed: the safetensors file and the PNG grid are read and written here with the standard library.
"""

import json
import math
import os
import struct
import zlib

import torch
import torch.nn.functional as F
from torch import nn

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}

# The service renders at most this many images per forward pass; StyleGAN draws its noise chunk by chunk.
RENDER_CHUNK = 16


def read_safetensors(path):
    """Tensors by name from a safetensors file: an 8-byte little-endian header length, a JSON header, the data."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    header.pop("__metadata__", None)
    start = 8 + length
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = _DTYPES[entry["dtype"]]
        raw = bytearray(data[start + begin : start + end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.zeros(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"])
    return tensors


def load(path=".", weights=None, direction="AtoB"):
    """The exported generator, in eval mode, from the folder holding config.json.

    weights: "ema" (the moving average, the default where the run kept one) or "generator" (the raw weights).
    direction: CycleGAN's "AtoB" (default) or "BtoA".
    """
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    weights_file = os.path.join(path, config["weights"]["file"])
    if weights_file.endswith(".pt"):
        tensors = torch.load(weights_file, map_location="cpu")
    else:
        tensors = read_safetensors(weights_file)
    prefix = weights or config["weights"]["default"]
    if direction == "BtoA":
        if "generator_ba" not in config["weights"]["networks"]:
            raise ValueError(f"A {config['family']} generator translates A to B only.")
        prefix = "generator_ba"
    elif direction != "AtoB":
        raise ValueError("direction is AtoB or BtoA.")
    if prefix not in config["weights"]["networks"]:
        raise ValueError(f"No '{prefix}' weights; this export has {list(config['weights']['networks'])}.")
    network = build(config)
    state = {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    network.load_state_dict(state, strict=True)
    network.config = config
    return network.eval()


class EqualizedLinear(nn.Module):
    """A dense layer with equalized learning rate: the stored weight is scaled by lr_multiplier / sqrt(in)."""

    def __init__(self, inputs, outputs, lr_multiplier=1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(outputs, inputs))
        self.bias = nn.Parameter(torch.zeros(outputs))
        self.scale = lr_multiplier / math.sqrt(inputs)
        self.lr_multiplier = lr_multiplier

    def forward(self, x):
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_multiplier)


class EqualizedConv2d(nn.Module):
    """A square convolution with equalized learning rate and "same" padding."""

    def __init__(self, inputs, outputs, kernel):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(outputs, inputs, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(outputs))
        self.scale = 1 / math.sqrt(inputs * kernel * kernel)
        self.padding = kernel // 2

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


def pixel_norm(x):
    return x * (x.square().mean(1, keepdim=True) + 1e-8).rsqrt()


class PixelNorm(nn.Module):
    def forward(self, x):
        return pixel_norm(x)


class NoiseGenerator(nn.Module):
    """What every generator drawing from a latent shares: sampling exactly as the service's samples.png does."""

    def latents(self, rng, count, truncation):
        return torch.randn(count, self.config["latent_size"], generator=rng)

    def render(self, z, labels, rng, truncation=None, noise="random", mix=None, mix_from=None):
        return self(z, labels) if self.config["classes"] else self(z)

    @torch.no_grad()
    def sample(self, count, seed, labels=None, truncation=None, noise="random", mix=None, mix_from=None):
        """count images from a seed: the images the service's samples.png?seed= renders with these parameters."""
        rng = torch.Generator().manual_seed(seed)
        z = self.latents(rng, count, truncation)
        classes = None
        if self.config["classes"]:
            picked = labels or list(range(self.config["classes"]))
            classes = torch.tensor([picked[i % len(picked)] for i in range(count)], dtype=torch.int64)
        if mix is not None:
            mix = self.latents(torch.Generator().manual_seed(mix), count, None)
        chunks = []
        for start in range(0, count, RENDER_CHUNK):
            part = slice(start, min(count, start + RENDER_CHUNK))
            images = self.render(
                z[part],
                None if classes is None else classes[part],
                rng,
                truncation,
                noise,
                None if mix is None else mix[part],
                mix_from,
            )
            chunks.append(display(images, self.config["image_size"]))
        return torch.cat(chunks, 0)


def display(images, size):
    """At the target size (nearest enlargement of a growing ProGAN's stage) and clamped to [-1, 1]."""
    if images.shape[-1] != size:
        images = F.interpolate(images, size=[size, size], mode="nearest")
    return images.clamp(-1, 1)


def save_grid(images, path, columns=None, padding=2):
    """Saves images [N, C, H, W] in [-1, 1] as one PNG grid with grey padding, as the service lays it out."""
    count, channels, height, width = images.shape
    columns = min(columns or math.ceil(math.sqrt(count)), count)
    rows = (count + columns - 1) // columns
    pixels = ((images.detach().cpu().float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    grid_h, grid_w = rows * height + (rows + 1) * padding, columns * width + (columns + 1) * padding
    grid = torch.full((grid_h, grid_w, channels), 128, dtype=torch.uint8)
    for n in range(count):
        top = padding + (n // columns) * (height + padding)
        left = padding + (n % columns) * (width + padding)
        grid[top : top + height, left : left + width] = pixels[n].permute(1, 2, 0)
    raw = b"".join(b"\x00" + bytes(grid[y].flatten().tolist()) for y in range(grid_h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    colour = 0 if channels == 1 else 2
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", grid_w, grid_h, 8, colour, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw)))
        f.write(chunk(b"IEND", b""))
