using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Build-time ELF edit: flags one version-need entry of a shared library VER_FLG_WEAK, and only when the
// system's libstdc++ lacks that version. See Directory.Build.targets for why.
public class WeakenGlibcxxNeed : Task
{
    [Required]
    public string Library { get; set; } = "";

    [Required]
    public string Version { get; set; } = "";

    private static readonly string[] SystemLibraries =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
    };

    public override bool Execute()
    {
        var system = Array.Find(SystemLibraries, File.Exists);
        if (system is null || Contains(File.ReadAllBytes(system), Encoding.ASCII.GetBytes(Version + "\0")))
            return true;

        var elf = File.ReadAllBytes(Library);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1)
        {
            Log.LogWarning("{0} is not a little-endian ELF64 file; left as it is.", Library);
            return true;
        }

        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A),
            shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != 0x6ffffffe)
                continue; // SHT_GNU_verneed
            long offset = BitConverter.ToInt64(elf, (int)sh + 0x18);
            int link = BitConverter.ToInt32(elf, (int)sh + 0x28);
            long strtab = BitConverter.ToInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);
            if (Patch(elf, offset, strtab))
            {
                File.WriteAllBytes(Library, elf);
                Log.LogMessage(
                    MessageImportance.High,
                    "Marked {0} weak in {1} (system libstdc++ lacks it).",
                    Version,
                    Library
                );
            }
            return true;
        }
        return true;
    }

    private bool Patch(byte[] elf, long verneed, long strtab)
    {
        bool changed = false;
        for (long need = verneed; ; )
        {
            int count = BitConverter.ToUInt16(elf, (int)need + 2);
            long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
            for (int a = 0; a < count; a++)
            {
                string name = ReadString(elf, strtab + BitConverter.ToUInt32(elf, (int)aux + 8));
                ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                if (name == Version && (flags & 2) == 0)
                {
                    BitConverter.GetBytes((ushort)(flags | 2)).CopyTo(elf, (int)aux + 4);
                    changed = true;
                }
                uint nextAux = BitConverter.ToUInt32(elf, (int)aux + 12);
                if (nextAux == 0)
                    break;
                aux += nextAux;
            }
            uint next = BitConverter.ToUInt32(elf, (int)need + 12);
            if (next == 0)
                return changed;
            need += next;
        }
    }

    private static string ReadString(byte[] bytes, long at)
    {
        int end = (int)at;
        while (bytes[end] != 0)
            end++;
        return Encoding.ASCII.GetString(bytes, (int)at, end - (int)at);
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i <= haystack.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j])
                j++;
            if (j == needle.Length)
                return true;
        }
        return false;
    }
}
