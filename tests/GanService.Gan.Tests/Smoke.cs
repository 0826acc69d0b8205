namespace GanService.Gan.Tests;
public class Smoke { [Fact] public void Loads() { using var t = TorchSharp.torch.ones(2, 2); Assert.Equal(4, t.sum().item<float>()); } }
