

# DCGAN and its class-conditional variant: a dense projection of z to a filters x b x b map, stride-2 transposed
# convolutions with batch norm and LeakyReLU(0.2), and a 3x3 transposed convolution with tanh.


class Unflatten(nn.Module):
    """nn.Unflatten(1, shape) in a form torch.onnx.export can write (its aten::unflatten has no ONNX symbol)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(-1, *self.shape)


class DcganGenerator(NoiseGenerator):
    def __init__(self, config, latent_size=None):
        super().__init__()
        self.config = config
        layers = config["layers"]
        f, b = layers["filters"], layers["base_size"]
        self.project = nn.Sequential(
            nn.Linear(latent_size or config["latent_size"], f * b * b, bias=False),
            Unflatten((f, b, b)),
            nn.BatchNorm2d(f),
            nn.LeakyReLU(layers["slope"]),
        )
        blocks = []
        for _ in range(layers["blocks"]):
            blocks += [nn.ConvTranspose2d(f, f, 4, 2, 1, bias=False), nn.BatchNorm2d(f), nn.LeakyReLU(layers["slope"])]
        self.upsample = nn.Sequential(*blocks)
        self.output = nn.Sequential(nn.ConvTranspose2d(f, config["channels"], 3, 1, 1), nn.Tanh())

    def forward(self, z):
        return self.output(self.upsample(self.project(z)))


class ConditionalDcganGenerator(NoiseGenerator):
    """The class embedding joined to z before the DCGAN body."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        size = config["layers"]["embedding_size"]
        self.body = DcganGenerator(config, config["latent_size"] + size)
        self.embedding = nn.Embedding(config["classes"], size)

    def forward(self, z, labels):
        return self.body(torch.cat([z, self.embedding(labels)], 1))


def build(config):
    return ConditionalDcganGenerator(config) if config["classes"] else DcganGenerator(config)
