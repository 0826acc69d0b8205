

# The pix2pix U-Net translator: stride-2 4x4 convolutions down to 1x1 (batch norm but at the input and the
# bottleneck, LeakyReLU 0.2), transposed convolutions back up (batch norm, ReLU), each joined to its mirror by a
# skip connection, tanh out. Call it on images [N, C, H, W] in [-1, 1] at the export's image size.


class UNetGenerator(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        widths, channels = config["layers"]["widths"], config["channels"]
        depth = len(widths)
        self.down = nn.ModuleList()
        for i in range(depth):
            block = [nn.Conv2d(channels if i == 0 else widths[i - 1], widths[i], 4, 2, 1, bias=False)]
            if 0 < i < depth - 1:
                block.append(nn.BatchNorm2d(widths[i]))
            self.down.append(nn.Sequential(*block, nn.LeakyReLU(0.2)))
        self.up = nn.ModuleList()
        for i in range(depth - 1, 0, -1):
            inputs = widths[i] if i == depth - 1 else widths[i] * 2
            self.up.append(
                nn.Sequential(
                    nn.ConvTranspose2d(inputs, widths[i - 1], 4, 2, 1, bias=False),
                    nn.BatchNorm2d(widths[i - 1]),
                    nn.ReLU(),
                )
            )
        self.up.append(nn.Sequential(nn.ConvTranspose2d(widths[0] * 2, channels, 4, 2, 1), nn.Tanh()))

    def forward(self, x):
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        for i, block in enumerate(self.up):
            if i > 0:
                x = torch.cat([x, skips[len(skips) - 1 - i]], 1)
            x = block(x)
        return x


def build(config):
    return UNetGenerator(config)
