

# StyleGAN2: a mapping network (pixel norm, equalized dense layers with a 0.01 learning-rate multiplier, LeakyReLU)
# from z to w; a learned 4x4 constant; per resolution two modulated 3x3 convolutions with per-pixel noise and a
# modulated 1x1 toRGB summed into a bilinearly upsampled skip image. wAverage is the running mean of w that
# truncation pulls toward. noise: None or "const" uses each layer's stored map, "random" draws from a generator,
# or pass one tensor [N, 1, r, r] per style layer.


class ModulatedConv2d(nn.Module):
    def __init__(self, inputs, outputs, kernel, style_size, demodulate=True):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(outputs, inputs, kernel, kernel))
        self.affine = EqualizedLinear(style_size, inputs)
        self.scale = 1 / math.sqrt(inputs * kernel * kernel)
        self.inputs, self.outputs, self.kernel, self.demodulate = inputs, outputs, kernel, demodulate

    def forward(self, x, w):
        style = self.affine(w)
        y = F.conv2d(x * style.reshape(-1, self.inputs, 1, 1), self.weight * self.scale, None, padding=self.kernel // 2)
        if not self.demodulate:
            return y
        squares = self.weight.square().sum([2, 3]) * (self.scale * self.scale)
        factors = (style.square().matmul(squares.t()) + 1e-8).rsqrt()
        return y * factors.reshape(-1, self.outputs, 1, 1)


class StyleLayer(nn.Module):
    def __init__(self, inputs, outputs, style_size, resolution, upsample):
        super().__init__()
        self.conv = ModulatedConv2d(inputs, outputs, 3, style_size)
        self.noiseStrength = nn.Parameter(torch.zeros(1))
        self.bias = nn.Parameter(torch.zeros(1, outputs, 1, 1))
        self.register_buffer("noiseConst", torch.zeros(1, 1, resolution, resolution))
        self.resolution, self.upsample = resolution, upsample

    def forward(self, x, w, noise=None):
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        y = self.conv(x, w)
        noise = self.noiseConst if noise is None else noise
        return F.leaky_relu(y + self.noiseStrength * noise + self.bias, 0.2) * math.sqrt(2)


class ConstantInput(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.constant = nn.Parameter(torch.zeros(1, channels, 4, 4))


class StyleGenerator(NoiseGenerator):
    def __init__(self, config):
        super().__init__()
        self.config = config
        layers, size, channels = config["layers"], config["latent_size"], config["channels"]
        widths, resolutions = layers["widths"], layers["resolutions"]
        mapping = [PixelNorm()]
        for _ in range(layers["mapping_layers"]):
            mapping += [EqualizedLinear(size, size, layers["mapping_lr_multiplier"]), nn.LeakyReLU(0.2)]
        self.mapping = nn.Sequential(*mapping)
        self.input = ConstantInput(widths[0])
        self.layers = nn.ModuleList([StyleLayer(widths[0], widths[0], size, 4, False)])
        self.toRgb = nn.ModuleList([ModulatedConv2d(widths[0], channels, 1, size, demodulate=False)])
        for i in range(1, len(widths)):
            self.layers.append(StyleLayer(widths[i - 1], widths[i], size, resolutions[i], True))
            self.layers.append(StyleLayer(widths[i], widths[i], size, resolutions[i], False))
            self.toRgb.append(ModulatedConv2d(widths[i], channels, 1, size, demodulate=False))
        self.register_buffer("wAverage", torch.zeros(size))
        self.style_count = len(self.layers) + 1

    def styles(self, z, truncation=None):
        """w for every style input [N, style_count, latent_size], pulled toward wAverage by psi if given."""
        w = self.mapping(z)
        if truncation is not None:
            w = torch.lerp(self.wAverage.expand_as(w), w, truncation)
        return w.unsqueeze(1).expand(-1, self.style_count, -1)

    def noise_maps(self, count, rng):
        """Fresh noise for every style layer, drawn in the order the service draws it."""
        return [torch.randn(count, 1, layer.resolution, layer.resolution, generator=rng) for layer in self.layers]

    def synthesize(self, ws, noise=None):
        if noise is None or noise == "const":
            noise = [None] * len(self.layers)
        x = self.layers[0](self.input.constant.expand(ws.shape[0], -1, -1, -1), ws[:, 0], noise[0])
        image = self.toRgb[0](x, ws[:, 1])
        for block in range(1, len(self.toRgb)):
            first = 2 * block - 1
            x = self.layers[first](x, ws[:, first], noise[first])
            x = self.layers[first + 1](x, ws[:, first + 1], noise[first + 1])
            image = F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False)
            image = image + self.toRgb[block](x, ws[:, first + 2])
        return image

    def forward(self, z, truncation=None, noise=None):
        return self.synthesize(self.styles(z, truncation), noise)

    def render(self, z, labels, rng, truncation=None, noise="random", mix=None, mix_from=None):
        ws = self.styles(z, truncation)
        if mix is not None:
            start = self.style_count // 2 if mix_from is None else mix_from
            ws = torch.cat([ws[:, :start], self.styles(mix, truncation)[:, start:]], 1)
        return self.synthesize(ws, self.noise_maps(z.shape[0], rng) if noise == "random" else None)


def build(config):
    return StyleGenerator(config)
