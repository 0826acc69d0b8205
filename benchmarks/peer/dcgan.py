#!/usr/bin/python3
"""The peer of GanService's DCGAN benchmark: the same networks, loss, optimizer and step in PyTorch.

Run by benchmarks/GanService.Benchmarks (Debian's python3-torch: apt-get install python3-torch libopenblas0-pthread) alternately with
the TorchSharp loop; prints one JSON line: {"ms_per_step": median, "steps": n, "torch": version, "threads": t}.
  /usr/bin/python3 benchmarks/peer/dcgan.py --size 28 --channels 3 --steps 60 --loop shared --layout channels-last
"""
import argparse, json, statistics, time
import torch
from torch import nn

F = 64


def geometry(size):
    return {28: (7, 2), 32: (4, 3), 64: (4, 4)}[size]


class ChannelsLast(nn.Module):
    """GanService lays its DCGAN activations out channels-last from the first feature map on; so may the peer."""

    def forward(self, x):
        return x.contiguous(memory_format=torch.channels_last)


class Generator(nn.Module):
    def __init__(self, size, channels, latent=100, layout="nchw"):
        super().__init__()
        base, blocks = geometry(size)
        layers = [nn.Linear(latent, F * base * base, bias=False), nn.Unflatten(1, (F, base, base))]
        layers += [ChannelsLast()] if layout == "channels-last" else []
        layers += [nn.BatchNorm2d(F), nn.LeakyReLU(0.2)]
        for _ in range(blocks):
            layers += [nn.ConvTranspose2d(F, F, 4, 2, 1, bias=False), nn.BatchNorm2d(F), nn.LeakyReLU(0.2)]
        layers += [nn.ConvTranspose2d(F, channels, 3, 1, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, size, channels, layout="nchw"):
        super().__init__()
        final, blocks = geometry(size)
        layers = [ChannelsLast()] if layout == "channels-last" else []
        for i in range(blocks):
            layers.append(nn.Conv2d(channels if i == 0 else F, F, 3, 2, 1))
            if i > 0:
                layers.append(nn.BatchNorm2d(F))
            layers.append(nn.LeakyReLU(0.2))
        layers += [nn.Flatten(), nn.Linear(F * final * final, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).squeeze(1)


def init(module):
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--loop", choices=["course", "shared"], default="shared")
    p.add_argument("--layout", choices=["nchw", "channels-last"], default="nchw")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    g, d = Generator(a.size, a.channels, layout=a.layout), Discriminator(a.size, a.channels, layout=a.layout)
    g.apply(init)
    d.apply(init)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    data = torch.rand(1024, a.channels, a.size, a.size) * 2 - 1
    ones, zeros = torch.ones(a.batch), torch.zeros(a.batch)
    times = []
    for step in range(a.warmup + a.steps):
        start = time.perf_counter()
        real = data[torch.randint(0, data.shape[0], (a.batch,))]
        opt_d.zero_grad()
        if a.loop == "shared":
            fake = g(torch.randn(a.batch, 100))
            fake_for_d = fake.detach()
        else:
            with torch.no_grad():
                fake_for_d = g(torch.randn(a.batch, 100))
        loss_d = bce(d(real), ones) + bce(d(fake_for_d), zeros)
        loss_d.backward()
        opt_d.step()
        for param in d.parameters():
            param.requires_grad_(False)
        opt_g.zero_grad()
        if a.loop == "course":
            fake = g(torch.randn(a.batch, 100))
        loss_g = bce(d(fake), ones)
        loss_g.backward()
        opt_g.step()
        for param in d.parameters():
            param.requires_grad_(True)
        loss_d.item(), loss_g.item()
        if step >= a.warmup:
            times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"ms_per_step": statistics.median(times), "steps": a.steps, "torch": torch.__version__, "threads": torch.get_num_threads(), "loop": a.loop, "layout": a.layout}))


if __name__ == "__main__":
    main()
