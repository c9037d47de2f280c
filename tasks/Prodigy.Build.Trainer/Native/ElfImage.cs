using System.Buffers.Binary;
using System.Text;

namespace Prodigy.Build.Trainer.Native;

/// <summary>
/// A read-only view of a 64-bit little-endian ELF shared library: just what the dynamic loader
/// reads to link it (dynamic symbols, their versions, the versions it needs and defines, the
/// libraries it needs), with the file offset of every field a patch may change.
/// </summary>
/// <remarks>
/// Sections are found by type, not by name, as the loader's tools do, so a stripped
/// <c>.shstrtab</c> does not matter. Every offset is checked against the file: a malformed file
/// gives <see cref="InvalidDataException"/>, never an out-of-range read.
/// </remarks>
internal sealed class ElfImage
{
    public const uint SectionTypeDynamic = 6;
    public const uint SectionTypeDynamicSymbols = 11;
    public const uint SectionTypeVersionDefinitions = 0x6ffffffd;
    public const uint SectionTypeVersionNeeds = 0x6ffffffe;
    public const uint SectionTypeSymbolVersions = 0x6fffffff;

    /// <summary><c>VER_FLG_WEAK</c>: a missing version is not an error for the loader.</summary>
    public const ushort VersionFlagWeak = 0x2;

    /// <summary><c>VER_NDX_GLOBAL</c>: the symbol is bound without a version.</summary>
    public const ushort VersionIndexGlobal = 1;

    private const int SymbolEntrySize = 24;
    private const int DynamicEntrySize = 16;
    private const long DynamicTagNeeded = 1;
    private const long DynamicTagSharedObjectName = 14;

    private readonly byte[] _bytes;

    private ElfImage(byte[] bytes) => _bytes = bytes;

    public IReadOnlyList<ElfSection> Sections { get; private set; } = [];

    /// <summary><c>.dynsym</c>, in table order (index 0 is the null symbol).</summary>
    public IReadOnlyList<ElfDynamicSymbol> DynamicSymbols { get; private set; } = [];

    /// <summary><c>.gnu.version_r</c>: per needed library, the versions this file needs from it.</summary>
    public IReadOnlyList<ElfVersionNeed> VersionNeeds { get; private set; } = [];

    /// <summary><c>.gnu.version_d</c>: the versions this file defines (the base entry, its own soname, left out).</summary>
    public IReadOnlyList<string> VersionDefinitions { get; private set; } = [];

    /// <summary>The <c>DT_NEEDED</c> entries, in load order.</summary>
    public IReadOnlyList<string> NeededLibraries { get; private set; } = [];

    public string? SharedObjectName { get; private set; }

    /// <summary>File offsets of every string that the loader looks up in the dynamic string table (see <see cref="ElfStringReference"/>).</summary>
    public IReadOnlyList<ElfStringReference> DynamicStringReferences { get; private set; } = [];

    public ElfSection? FindSection(uint type) => Sections.FirstOrDefault(section => section.Type == type);

    public static ElfImage Read(string path) => Parse(File.ReadAllBytes(path));

    public static ElfImage Parse(byte[] bytes)
    {
        var image = new ElfImage(bytes);
        image.ParseAll();
        return image;
    }

    private void ParseAll()
    {
        if (_bytes.Length < 64 || _bytes[0] != 0x7f || _bytes[1] != (byte)'E' || _bytes[2] != (byte)'L' || _bytes[3] != (byte)'F')
            throw new InvalidDataException("Not an ELF file.");
        if (_bytes[4] != 2 || _bytes[5] != 1)
            throw new InvalidDataException($"Only 64-bit little-endian ELF is supported (class {_bytes[4]}, data {_bytes[5]}).");

        Sections = ReadSections();
        var references = new List<ElfStringReference>();

        var dynamicSymbols = FindSection(SectionTypeDynamicSymbols);
        if (dynamicSymbols is not null)
            DynamicSymbols = ReadDynamicSymbols(dynamicSymbols, FindSection(SectionTypeSymbolVersions), references);

        var versionNeeds = FindSection(SectionTypeVersionNeeds);
        if (versionNeeds is not null)
            VersionNeeds = ReadVersionNeeds(versionNeeds, references);

        var versionDefinitions = FindSection(SectionTypeVersionDefinitions);
        if (versionDefinitions is not null)
            VersionDefinitions = ReadVersionDefinitions(versionDefinitions, references);

        var dynamic = FindSection(SectionTypeDynamic);
        if (dynamic is not null)
            ReadDynamicEntries(dynamic, references);

        DynamicStringReferences = references;
    }

    private List<ElfSection> ReadSections()
    {
        var tableOffset = ReadUInt64(0x28);
        var entrySize = ReadUInt16(0x3a);
        var count = ReadUInt16(0x3c);
        var namesIndex = ReadUInt16(0x3e);
        if (tableOffset == 0 || count == 0)
            throw new InvalidDataException("The ELF file has no section headers.");
        if (entrySize < 64)
            throw new InvalidDataException($"Section header entries of {entrySize} bytes are too small for ELF64.");

        var sections = new List<ElfSection>(count);
        for (var index = 0; index < count; index++)
        {
            var header = Checked(tableOffset + (ulong)index * entrySize, 64);
            sections.Add(new ElfSection(
                Index: index,
                Name: "",
                NameOffset: ReadUInt32(header),
                Type: ReadUInt32(header + 4),
                Offset: Checked(ReadUInt64(header + 0x18), 0),
                Size: (long)ReadUInt64(header + 0x20),
                Link: ReadUInt32(header + 0x28),
                Info: ReadUInt32(header + 0x2c),
                EntrySize: (long)ReadUInt64(header + 0x38)));
        }

        // Names are for people (messages, tests); nothing here depends on them.
        if (namesIndex < sections.Count)
        {
            var names = sections[namesIndex];
            for (var index = 0; index < sections.Count; index++)
                sections[index] = sections[index] with { Name = TryReadString(names, sections[index].NameOffset) ?? "" };
        }

        return sections;
    }

    private List<ElfDynamicSymbol> ReadDynamicSymbols(ElfSection symbols, ElfSection? versions, List<ElfStringReference> references)
    {
        var strings = LinkedStringTable(symbols);
        var count = symbols.Size / SymbolEntrySize;
        if (versions is not null && versions.Size < count * 2)
            throw new InvalidDataException($"{versions.Describe()} has fewer entries than {symbols.Describe()}.");

        var result = new List<ElfDynamicSymbol>((int)count);
        for (var index = 0; index < count; index++)
        {
            var entry = Checked((ulong)(symbols.Offset + index * SymbolEntrySize), SymbolEntrySize);
            var nameOffset = ReadUInt32(entry);
            long? versionOffset = versions is null ? null : Checked((ulong)(versions.Offset + index * 2), 2);
            var name = ReadString(strings, nameOffset);
            references.Add(new ElfStringReference(strings.Offset + nameOffset, $"dynamic symbol {index} ({name})", SymbolIndex: index));
            result.Add(new ElfDynamicSymbol(
                Index: index,
                Name: name,
                NameFileOffset: strings.Offset + nameOffset,
                SectionIndex: ReadUInt16(entry + 6),
                VersionIndex: versionOffset is { } offset ? (ushort)(ReadUInt16(offset) & 0x7fff) : VersionIndexGlobal,
                VersionFileOffset: versionOffset));
        }

        return result;
    }

    private List<ElfVersionNeed> ReadVersionNeeds(ElfSection section, List<ElfStringReference> references)
    {
        var strings = LinkedStringTable(section);
        var needs = new List<ElfVersionNeed>();
        foreach (var entry in ChainedEntries(section, entrySize: 16, nextFieldOffset: 12))
        {
            var auxCount = ReadUInt16(entry + 2);
            var fileNameOffset = ReadUInt32(entry + 4);
            var file = ReadString(strings, fileNameOffset);
            references.Add(new ElfStringReference(strings.Offset + fileNameOffset, $"needed file {file}"));

            var versions = new List<ElfVersionNeedAux>(auxCount);
            var aux = entry + ReadUInt32(entry + 8);
            for (var auxIndex = 0; auxIndex < auxCount; auxIndex++)
            {
                Checked((ulong)aux, 16);
                var nameOffset = ReadUInt32(aux + 8);
                var name = ReadString(strings, nameOffset);
                references.Add(new ElfStringReference(strings.Offset + nameOffset, $"needed version {name}"));
                versions.Add(new ElfVersionNeedAux(
                    Name: name,
                    Flags: ReadUInt16(aux + 4),
                    FlagsFileOffset: aux + 4,
                    VersionIndex: ReadUInt16(aux + 6)));
                aux += ReadUInt32(aux + 12);
            }

            needs.Add(new ElfVersionNeed(file, versions));
        }

        return needs;
    }

    private List<string> ReadVersionDefinitions(ElfSection section, List<ElfStringReference> references)
    {
        const ushort baseDefinitionFlag = 0x1;
        var strings = LinkedStringTable(section);
        var definitions = new List<string>();
        foreach (var entry in ChainedEntries(section, entrySize: 20, nextFieldOffset: 16))
        {
            var flags = ReadUInt16(entry + 2);
            var auxCount = ReadUInt16(entry + 6);
            // The first Verdaux names the version; any others name the versions it inherits from.
            if (auxCount > 0)
            {
                var aux = Checked((ulong)(entry + ReadUInt32(entry + 12)), 8);
                var nameOffset = ReadUInt32(aux);
                var name = ReadString(strings, nameOffset);
                references.Add(new ElfStringReference(strings.Offset + nameOffset, $"defined version {name}"));
                if ((flags & baseDefinitionFlag) == 0)
                    definitions.Add(name);
            }
        }

        return definitions;
    }

    /// <summary>
    /// The file offsets of a Verneed or Verdef chain's entries: <c>sh_info</c> of them, each found by
    /// the previous one's relative "next" field; a next of 0 ends the chain early.
    /// </summary>
    private IEnumerable<long> ChainedEntries(ElfSection section, int entrySize, int nextFieldOffset)
    {
        var entry = section.Offset;
        for (var index = 0; index < section.Info; index++)
        {
            yield return Checked((ulong)entry, entrySize);
            var next = ReadUInt32(entry + nextFieldOffset);
            if (next == 0)
                yield break;
            entry += next;
        }
    }

    private void ReadDynamicEntries(ElfSection section, List<ElfStringReference> references)
    {
        const long nullTag = 0;
        const long runPathTag = 29;
        const long runSearchPathTag = 15;
        var strings = LinkedStringTable(section);
        var needed = new List<string>();
        for (long offset = section.Offset; offset + DynamicEntrySize <= section.Offset + section.Size; offset += DynamicEntrySize)
        {
            Checked((ulong)offset, DynamicEntrySize);
            var tag = (long)ReadUInt64(offset);
            var value = ReadUInt64(offset + 8);
            if (tag == nullTag)
                break;
            if (tag is not (DynamicTagNeeded or DynamicTagSharedObjectName or runPathTag or runSearchPathTag))
                continue;

            var text = ReadString(strings, checked((uint)value));
            references.Add(new ElfStringReference(strings.Offset + (long)value, $"dynamic entry {tag} ({text})"));
            if (tag == DynamicTagNeeded)
                needed.Add(text);
            else if (tag == DynamicTagSharedObjectName)
                SharedObjectName = text;
        }

        NeededLibraries = needed;
    }

    private ElfSection LinkedStringTable(ElfSection section) =>
        section.Link < Sections.Count
            ? Sections[(int)section.Link]
            : throw new InvalidDataException($"{section.Describe()} links to section {section.Link}, which does not exist.");

    private string ReadString(ElfSection table, uint offset) =>
        TryReadString(table, offset)
        ?? throw new InvalidDataException($"String offset {offset} is outside {table.Describe()} or not terminated.");

    private string? TryReadString(ElfSection table, uint offset)
    {
        if (offset >= table.Size || table.Offset + table.Size > _bytes.Length)
            return null;
        var span = _bytes.AsSpan((int)(table.Offset + offset), (int)(table.Size - offset));
        var end = span.IndexOf((byte)0);
        return end < 0 ? null : Encoding.UTF8.GetString(span[..end]);
    }

    private long Checked(ulong offset, int length) =>
        offset <= (ulong)_bytes.Length && (ulong)_bytes.Length - offset >= (ulong)length
            ? (long)offset
            : throw new InvalidDataException($"Offset 0x{offset:x} (+{length}) is outside the {_bytes.Length}-byte file.");

    private ushort ReadUInt16(long offset) => BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan((int)Checked((ulong)offset, 2)));

    private uint ReadUInt32(long offset) => BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan((int)Checked((ulong)offset, 4)));

    private ulong ReadUInt64(long offset) => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan((int)Checked((ulong)offset, 8)));
}

internal sealed record ElfSection(int Index, string Name, uint NameOffset, uint Type, long Offset, long Size, uint Link, uint Info, long EntrySize)
{
    public string Describe() => Name.Length > 0 ? $"section {Index} ({Name})" : $"section {Index}";
}

/// <summary>
/// A <c>.dynsym</c> entry. <c>SectionIndex</c> is 0 (<c>SHN_UNDEF</c>) for a symbol this file takes from
/// another library; <c>VersionIndex</c> is its <c>.gnu.version</c> entry without the hidden bit: 0 local,
/// 1 global, else a <see cref="ElfVersionNeedAux.VersionIndex"/> or a version this file defines.
/// </summary>
internal sealed record ElfDynamicSymbol(int Index, string Name, long NameFileOffset, ushort SectionIndex, ushort VersionIndex, long? VersionFileOffset)
{
    public bool IsUndefined => SectionIndex == 0;
}

internal sealed record ElfVersionNeed(string File, IReadOnlyList<ElfVersionNeedAux> Versions);

/// <summary>A <c>Vernaux</c> entry; <c>VersionIndex</c> (<c>vna_other</c>) is what <c>.gnu.version</c> holds for the symbols bound to it.</summary>
internal sealed record ElfVersionNeedAux(string Name, ushort Flags, long FlagsFileOffset, ushort VersionIndex)
{
    public bool IsWeak => (Flags & ElfImage.VersionFlagWeak) != 0;
}

/// <summary>
/// A place that names a string in the dynamic string table (with the dynamic symbol's index when a
/// symbol names it): a patch that rewrites a string must not change what any other place reads.
/// </summary>
internal sealed record ElfStringReference(long FileOffset, string Owner, int? SymbolIndex = null);
