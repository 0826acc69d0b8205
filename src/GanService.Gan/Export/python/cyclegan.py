

# The CycleGAN ResNet translator: a 7x7 stem, two stride-2 downsamplings, residual blocks, two transposed
# upsamplings and a 7x7 output (a stride-1 transposed convolution with padding 6, as the service runs it), instance
# norm and reflection padding, tanh. load(path, direction="BtoA") gives the second generator.


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=False),
            nn.InstanceNorm2d(channels),
            nn.ReLU(),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=False),
            nn.InstanceNorm2d(channels),
        )

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        f, channels = config["layers"]["filters"], config["channels"]
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, f, 7, bias=False), nn.InstanceNorm2d(f), nn.ReLU()]
        for inputs, outputs in [(f, 2 * f), (2 * f, 4 * f)]:
            layers += [nn.Conv2d(inputs, outputs, 3, 2, 1, bias=False), nn.InstanceNorm2d(outputs), nn.ReLU()]
        layers += [ResidualBlock(4 * f) for _ in range(config["layers"]["residual_blocks"])]
        for inputs, outputs in [(4 * f, 2 * f), (2 * f, f)]:
            layers += [
                nn.ConvTranspose2d(inputs, outputs, 3, 2, 1, output_padding=1, bias=False),
                nn.InstanceNorm2d(outputs),
                nn.ReLU(),
            ]
        layers += [nn.ReflectionPad2d(3), nn.ConvTranspose2d(f, channels, 7, padding=6), nn.Tanh()]
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def build(config):
    return ResnetGenerator(config)
