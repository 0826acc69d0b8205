namespace GanService.Gan; internal static class Placeholder {}
