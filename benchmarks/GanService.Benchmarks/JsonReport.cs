using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GanService.Benchmarks;

/// <summary>
/// <c>--json FILE</c>: everything the run prints is kept, and at the end its Markdown tables (and the lines between
/// them) are written as JSON, so the figures in the table and in the file are the same by construction.
/// </summary>
internal sealed class JsonReport : TextWriter
{
    private readonly TextWriter console;
    private readonly StringBuilder text = new();

    private JsonReport(TextWriter console) => this.console = console;

    public override Encoding Encoding => console.Encoding;

    public static JsonReport? Start(string[] args)
    {
        if (Array.IndexOf(args, "--json") is var i && (i < 0 || i + 1 >= args.Length))
            return null;
        var report = new JsonReport(Console.Out);
        Console.SetOut(report);
        return report;
    }

    public static string? PathFrom(string[] args) =>
        Array.IndexOf(args, "--json") is var i && i >= 0 && i + 1 < args.Length ? args[i + 1] : null;

    public override void Write(char value)
    {
        console.Write(value);
        text.Append(value);
    }

    public override void Write(string? value)
    {
        console.Write(value);
        text.Append(value);
    }

    public void Save(string path)
    {
        var notes = new List<string>();
        var tables = new List<object>();
        var lines = text.ToString().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        for (int i = 0; i < lines.Count; i++)
        {
            if (!lines[i].StartsWith('|'))
            {
                if (lines[i].Length > 0)
                    notes.Add(lines[i]);
                continue;
            }
            var columns = Cells(lines[i]);
            var rows = new List<Dictionary<string, object>>();
            for (i += 2; i < lines.Count && lines[i].StartsWith('|'); i++)
                rows.Add(columns.Zip(Cells(lines[i])).ToDictionary(p => p.First, p => Value(p.Second)));
            tables.Add(
                new
                {
                    title = notes.LastOrDefault(),
                    columns,
                    rows,
                }
            );
        }
        File.WriteAllText(
            path,
            JsonSerializer.Serialize(new { notes, tables }, new JsonSerializerOptions { WriteIndented = true })
        );
        console.WriteLine($"\nFigures written to {path}.");
    }

    private static string[] Cells(string line) => line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();

    /// <summary>Plain numbers become numbers; anything with words or units stays text.</summary>
    private static object Value(string cell) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : cell;
}
