

# BigGAN: a hierarchical latent (one chunk for the 4x4 input, one per block) and a shared class embedding feeding
# every block's conditional batch norms; residual up blocks, optional self-attention, tanh. The service's layers
# are spectrally normalised; the export holds each weight already divided by its sigma, so they are plain layers.


class ConditionalBatchNorm(nn.Module):
    def __init__(self, channels, condition):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Linear(condition, channels)
        self.shift = nn.Linear(condition, channels)

    def forward(self, x, condition):
        gain = (1 + self.gain(condition)).unsqueeze(-1).unsqueeze(-1)
        return self.norm(x) * gain + self.shift(condition).unsqueeze(-1).unsqueeze(-1)


class SelfAttention(nn.Module):
    def __init__(self, channels):
        super().__init__()
        inner, half = max(1, channels // 8), max(1, channels // 2)
        self.query = nn.Conv2d(channels, inner, 1)
        self.key = nn.Conv2d(channels, inner, 1)
        self.value = nn.Conv2d(channels, half, 1)
        self.output = nn.Conv2d(half, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        n, _, h, w = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)
        attention = q.bmm(self.key(x).flatten(2)).softmax(-1)
        attended = self.value(x).flatten(2).bmm(attention.transpose(1, 2)).reshape(n, -1, h, w)
        return x + self.gamma * self.output(attended)


def _up(x):
    return F.interpolate(x, scale_factor=2, mode="nearest")


class GeneratorBlock(nn.Module):
    def __init__(self, inputs, outputs, condition):
        super().__init__()
        self.norm1 = ConditionalBatchNorm(inputs, condition)
        self.norm2 = ConditionalBatchNorm(outputs, condition)
        self.conv1 = nn.Conv2d(inputs, outputs, 3, padding=1)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, padding=1)
        self.shortcut = nn.Conv2d(inputs, outputs, 1)

    def forward(self, x, condition):
        h = _up(F.relu(self.norm1(x, condition)))
        h = self.conv2(F.relu(self.norm2(self.conv1(h), condition)))
        return h + self.shortcut(_up(x))


class BigGanGenerator(NoiseGenerator):
    def __init__(self, config):
        super().__init__()
        self.config = config
        layers = config["layers"]
        widths, resolutions, self.chunks = layers["widths"], layers["resolutions"], layers["chunks"]
        embedding = layers["embedding_size"]
        self.shared = nn.Embedding(config["classes"], embedding)
        self.input = nn.Linear(self.chunks[0], widths[0] * 16)
        self.blocks = nn.ModuleList()
        self.attention = nn.ModuleList()
        for i in range(1, len(resolutions)):
            self.blocks.append(GeneratorBlock(widths[i - 1], widths[i], embedding + self.chunks[i]))
            attend = resolutions[i] == layers["attention_resolution"]
            self.attention.append(SelfAttention(widths[i]) if attend else nn.Identity())
        self.outputNorm = nn.BatchNorm2d(widths[-1])
        self.outputConv = nn.Conv2d(widths[-1], config["channels"], 3, padding=1)

    def forward(self, z, labels):
        parts = z.split(self.chunks, 1)
        embedded = self.shared(labels)
        # The batch size spelled out rather than -1, so torch.onnx.export knows the channels batch norm reads.
        x = self.input(parts[0]).reshape(z.shape[0], self.config["layers"]["widths"][0], 4, 4)
        for i, block in enumerate(self.blocks):
            x = self.attention[i](block(x, torch.cat([embedded, parts[i + 1]], 1)))
        return self.outputConv(F.relu(self.outputNorm(x))).tanh()

    def latents(self, rng, count, truncation):
        """N(0, 1); with a truncation threshold, entries beyond it are redrawn (at most 100 rounds), then clipped."""
        z = torch.randn(count, self.config["latent_size"], generator=rng)
        if truncation is None:
            return z
        for _ in range(self.config["sampling"]["max_redraws"]):
            outside = z.abs() > truncation
            if not outside.any():
                break
            z = torch.where(outside, torch.randn(z.shape, generator=rng), z)
        return z.clamp(-truncation, truncation)


def build(config):
    return BigGanGenerator(config)
