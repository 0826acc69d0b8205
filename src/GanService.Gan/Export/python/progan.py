

# Progressive Growing GAN: pixel-normalised z to a 4x4 map, blocks that double the resolution (nearest upsampling,
# two equalized 3x3 convolutions, LeakyReLU 0.2, pixel norm) up to the stage the checkpoint was taken at, and a 1x1
# toRGB per resolution. Mid-fade, the output is lerp(upsampled previous toRGB, newest toRGB, alpha). Linear output.


class ProGanGenerator(NoiseGenerator):
    def __init__(self, config):
        super().__init__()
        self.config = config
        widths, channels = config["layers"]["widths"], config["channels"]
        self.input = EqualizedLinear(config["latent_size"], widths[0] * 16)
        self.inputConv = EqualizedConv2d(widths[0], widths[0], 3)
        self.blocks = nn.ModuleList()
        self.toRgb = nn.ModuleList([EqualizedConv2d(widths[0], channels, 1)])
        for i in range(1, len(widths)):
            self.blocks.append(
                nn.Sequential(
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    EqualizedConv2d(widths[i - 1], widths[i], 3),
                    nn.LeakyReLU(0.2),
                    PixelNorm(),
                    EqualizedConv2d(widths[i], widths[i], 3),
                    nn.LeakyReLU(0.2),
                    PixelNorm(),
                )
            )
            self.toRgb.append(EqualizedConv2d(widths[i], channels, 1))
        # The stage the weights were taken at; loaded from the export with them (config.json names it too).
        self.register_buffer("stage_resolution", torch.tensor(config["image_size"], dtype=torch.int64))
        self.register_buffer("stage_alpha", torch.tensor(1.0, dtype=torch.float64))

    def forward(self, z):
        resolution, alpha = int(self.stage_resolution), float(self.stage_alpha)
        depth = int(math.log2(resolution // 4))
        x = F.leaky_relu(self.input(pixel_norm(z)).reshape(-1, self.config["layers"]["widths"][0], 4, 4), 0.2)
        x = pixel_norm(F.leaky_relu(self.inputConv(pixel_norm(x)), 0.2))
        previous = None
        for i in range(depth):
            previous = x
            x = self.blocks[i](x)
        image = self.toRgb[depth](x)
        if alpha >= 1 or previous is None:
            return image
        faded = F.interpolate(self.toRgb[depth - 1](previous), scale_factor=2, mode="nearest")
        return faded.lerp(image, alpha)


def build(config):
    return ProGanGenerator(config)
