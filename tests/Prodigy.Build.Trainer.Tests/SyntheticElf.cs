using System.Buffers.Binary;
using System.Text;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// Writes a small ELF64 little-endian shared object with only the sections the loader links by:
/// .dynstr, .dynsym, .gnu.version, .gnu.version_r, .gnu.version_d, .dynamic (and .shstrtab), laid out
/// as a linker lays them out (each Verneed followed by its Vernaux entries).
/// </summary>
internal sealed class SyntheticElf
{
    private const uint Dynamic = 6, DynamicSymbols = 11, StringTable = 3, VersionDefinitions = 0x6ffffffd, VersionNeeds = 0x6ffffffe, SymbolVersions = 0x6fffffff;

    /// <summary>Dynamic symbols after the null one: name, whether undefined (taken from a needed library), .gnu.version index.</summary>
    public List<(string Name, bool Undefined, ushort Version)> Symbols { get; } = [];

    /// <summary>Per needed file, the versions needed from it: name, vna_other (the index symbols use), vna_flags.</summary>
    public List<(string File, (string Name, ushort Index, ushort Flags)[] Versions)> Needs { get; } = [];

    /// <summary>Versions this file defines, after the base one (its soname).</summary>
    public List<string> Definitions { get; } = [];

    public List<string> NeededLibraries { get; } = [];

    /// <summary>DT_NEEDED entries that point into another string, <c>Skip</c> bytes after its start (linkers share string tails).</summary>
    public List<(string Into, int Skip)> NeededInsideStrings { get; } = [];

    public string Soname { get; set; } = "libsynthetic.so";

    /// <summary>Where <see cref="Build"/> put things, in file offsets: known from the layout it wrote, not read back.</summary>
    public SyntheticElfLayout Layout { get; } = new();

    public byte[] Build()
    {
        var strings = new StringTableBuilder();
        var dynsym = new List<byte>(new byte[24]);
        var versym = new List<byte>(new byte[2]);
        foreach (var (name, undefined, version) in Symbols)
        {
            var entry = new byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(entry, strings.Add(name));
            entry[4] = 0x12; // STB_GLOBAL, STT_FUNC
            BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(6), undefined ? (ushort)0 : (ushort)7);
            dynsym.AddRange(entry);
            versym.AddRange(LittleEndian16(version));
        }

        var flagsInVerneed = new Dictionary<(string, string), long>();
        var verneed = new List<byte>();
        for (var i = 0; i < Needs.Count; i++)
        {
            var (file, versions) = Needs[i];
            var last = i == Needs.Count - 1;
            verneed.AddRange(Words(LittleEndian16(1), LittleEndian16((ushort)versions.Length), LittleEndian32(strings.Add(file)),
                LittleEndian32(16), LittleEndian32(last ? 0u : (uint)(16 + 16 * versions.Length))));
            for (var j = 0; j < versions.Length; j++)
            {
                var (name, index, flags) = versions[j];
                // Vernaux: vna_hash (4 bytes), then vna_flags.
                flagsInVerneed[(file, name)] = verneed.Count + 4;
                verneed.AddRange(Words(LittleEndian32(Hash(name)), LittleEndian16(flags), LittleEndian16(index),
                    LittleEndian32(strings.Add(name)), LittleEndian32(j == versions.Length - 1 ? 0u : 16u)));
            }
        }

        var verdef = new List<byte>();
        var defined = new[] { Soname }.Concat(Definitions).ToList();
        for (var i = 0; i < defined.Count; i++)
        {
            verdef.AddRange(Words(LittleEndian16(1), LittleEndian16(i == 0 ? (ushort)1 : (ushort)0), LittleEndian16((ushort)(i + 1)), LittleEndian16(1),
                LittleEndian32(Hash(defined[i])), LittleEndian32(20), LittleEndian32(i == defined.Count - 1 ? 0u : 28u)));
            verdef.AddRange(Words(LittleEndian32(strings.Add(defined[i])), LittleEndian32(0)));
        }

        var dynamic = new List<byte>();
        foreach (var library in NeededLibraries)
            dynamic.AddRange(Words(LittleEndian64(1), LittleEndian64(strings.Add(library))));
        foreach (var (into, skip) in NeededInsideStrings)
            dynamic.AddRange(Words(LittleEndian64(1), LittleEndian64(strings.Add(into) + (ulong)skip)));
        dynamic.AddRange(Words(LittleEndian64(14), LittleEndian64(strings.Add(Soname))));
        dynamic.AddRange(new byte[16]);

        var sectionNames = new StringTableBuilder();
        // Index: 1 .dynstr, 2 .dynsym, 3 .gnu.version, 4 .gnu.version_r, 5 .gnu.version_d, 6 .dynamic, 7 .shstrtab
        var sections = new List<(string Name, uint Type, byte[] Data, uint Link, uint Info, ulong EntrySize)>
        {
            (".dynstr", StringTable, strings.ToArray(), 0, 0, 0),
            (".dynsym", DynamicSymbols, [.. dynsym], 1, 1, 24),
            (".gnu.version", SymbolVersions, [.. versym], 2, 0, 2),
            (".gnu.version_r", VersionNeeds, [.. verneed], 1, (uint)Needs.Count, 0),
            (".gnu.version_d", VersionDefinitions, [.. verdef], 1, (uint)defined.Count, 0),
            (".dynamic", Dynamic, [.. dynamic], 1, 0, 16),
        };
        foreach (var section in sections)
            sectionNames.Add(section.Name);
        sectionNames.Add(".shstrtab");
        sections.Add((".shstrtab", StringTable, sectionNames.ToArray(), 0, 0, 0));

        var image = new List<byte>(new byte[64]);
        var offsets = new List<ulong>();
        foreach (var section in sections)
        {
            while (image.Count % 8 != 0)
                image.Add(0);
            offsets.Add((ulong)image.Count);
            image.AddRange(section.Data);
        }

        while (image.Count % 8 != 0)
            image.Add(0);
        var headerTable = (ulong)image.Count;
        image.AddRange(new byte[64]);
        for (var i = 0; i < sections.Count; i++)
        {
            var (name, type, data, link, info, entrySize) = sections[i];
            image.AddRange(Words(LittleEndian32(sectionNames.Add(name)), LittleEndian32(type), LittleEndian64(2), LittleEndian64(offsets[i]),
                LittleEndian64(offsets[i]), LittleEndian64((ulong)data.Length), LittleEndian32(link), LittleEndian32(info), LittleEndian64(8), LittleEndian64(entrySize)));
        }

        // Section order: 0 .dynstr, 1 .dynsym, 2 .gnu.version, 3 .gnu.version_r.
        Layout.VersionFlags.Clear();
        foreach (var (key, position) in flagsInVerneed)
            Layout.VersionFlags[key] = (long)offsets[3] + position;
        Layout.SymbolVersions.Clear();
        for (var i = 0; i < Symbols.Count; i++)
            Layout.SymbolVersions.Add((long)offsets[2] + (2 * (i + 1)));
        Layout.SymbolNames.Clear();
        foreach (var (name, _, _) in Symbols)
            Layout.SymbolNames[name] = (long)offsets[0] + strings.Add(name);

        var bytes = image.ToArray();
        "\x7f"u8.CopyTo(bytes);
        "ELF"u8.CopyTo(bytes.AsSpan(1));
        bytes[4] = 2; // ELFCLASS64
        bytes[5] = 1; // little-endian
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(16), 3); // ET_DYN
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(18), 62); // x86-64
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(40), headerTable);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(52), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(58), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(60), (ushort)(sections.Count + 1));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(62), (ushort)sections.Count);
        return bytes;
    }

    /// <summary>The file offsets of a built <see cref="SyntheticElf"/>.</summary>
    public sealed class SyntheticElfLayout
    {
        /// <summary>vna_flags of each (needed file, version).</summary>
        public Dictionary<(string File, string Version), long> VersionFlags { get; } = [];

        /// <summary>The .gnu.version entry of each symbol of <see cref="Symbols"/>, in order (the null symbol's is before them).</summary>
        public List<long> SymbolVersions { get; } = [];

        /// <summary>Each symbol's name in .dynstr.</summary>
        public Dictionary<string, long> SymbolNames { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>The SysV ELF hash, as vna_hash and vd_hash hold it.</summary>
    private static uint Hash(string name)
    {
        uint hash = 0;
        foreach (var c in Encoding.ASCII.GetBytes(name))
        {
            hash = (hash << 4) + c;
            var high = hash & 0xf0000000;
            if (high != 0)
                hash ^= high >> 24;
            hash &= ~high;
        }

        return hash;
    }

    private static byte[] Words(params byte[][] parts) => [.. parts.SelectMany(part => part)];

    private static byte[] LittleEndian16(ushort value) => [(byte)value, (byte)(value >> 8)];

    private static byte[] LittleEndian32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] LittleEndian64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>An ELF string table: starts with a NUL, each string once.</summary>
    private sealed class StringTableBuilder
    {
        private readonly List<byte> _bytes = [0];
        private readonly Dictionary<string, uint> _offsets = new(StringComparer.Ordinal) { [""] = 0 };

        public uint Add(string text)
        {
            if (_offsets.TryGetValue(text, out var offset))
                return offset;
            offset = (uint)_bytes.Count;
            _bytes.AddRange(Encoding.UTF8.GetBytes(text));
            _bytes.Add(0);
            _offsets[text] = offset;
            return offset;
        }

        public byte[] ToArray() => [.. _bytes];
    }
}
