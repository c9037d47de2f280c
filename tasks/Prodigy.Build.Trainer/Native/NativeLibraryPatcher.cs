using System.Collections.Frozen;
using System.Text;

namespace Prodigy.Build.Trainer.Native;

/// <summary>
/// Makes a shared library loadable against an older dependency that lacks some symbol versions
/// the library asks for, when the only symbols bound to those versions are ones the library can
/// do without. Works on a copy of the file's bytes: a few bytes change, nothing moves.
/// </summary>
/// <remarks>
/// The case it exists for: TorchSharp 0.107's <c>libLibTorchSharp.so</c> is built with GCC 13, whose
/// <c>&lt;iostream&gt;</c> references <c>std::ios_base_library_init()</c>@<c>GLIBCXX_3.4.32</c> only to
/// make sure libstdc++ initialises the standard streams. An older libstdc++ (Debian 12 ships GCC
/// 12's) lacks that version, so the loader refuses the whole library, though the streams are
/// already initialised by the older scheme (every libtorch object that includes
/// <c>&lt;iostream&gt;</c> constructs <c>std::ios_base::Init</c>). Per missing version:
/// <list type="number">
/// <item>its <c>.gnu.version_r</c> entry gets <c>VER_FLG_WEAK</c>, so its absence is no longer fatal;</item>
/// <item>each undefined symbol bound to it gets <c>.gnu.version</c> 1 (global), so no lookup asks for that version;</item>
/// <item>each such symbol's name in <c>.dynstr</c> starts with <c>getpid\0</c>, a libc function every process
/// has that takes nothing and changes nothing, so even a call through the symbol would be harmless.</item>
/// </list>
/// Only symbols listed in <see cref="DroppableSymbols"/> are rewritten; a missing version with any
/// other symbol is a real incompatibility and is reported, not patched.
/// </remarks>
internal static class NativeLibraryPatcher
{
    /// <summary>Symbols whose only purpose is to pull in a newer libstdc++'s own start-up work.</summary>
    public static readonly FrozenSet<string> DroppableSymbols = FrozenSet.Create(StringComparer.Ordinal, "_ZSt21ios_base_library_initv");

    /// <summary>The name the dropped symbols bind to instead (with its terminating NUL).</summary>
    public static ReadOnlySpan<byte> ReplacementName => "getpid\0"u8;

    /// <summary>
    /// What <paramref name="library"/> needs from <paramref name="dependencyFile"/> (a <c>DT_NEEDED</c>
    /// name such as <c>libstdc++.so.6</c>) that a dependency defining <paramref name="availableVersions"/> lacks.
    /// </summary>
    public static IReadOnlyList<string> FindMissingVersions(ElfImage library, string dependencyFile, IReadOnlySet<string> availableVersions) =>
        library.VersionNeeds
            .Where(need => need.File == dependencyFile)
            .SelectMany(need => need.Versions)
            .Where(version => !version.IsWeak && !availableVersions.Contains(version.Name))
            .Select(version => version.Name)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Patches a copy of <paramref name="original"/> so that the versions <paramref name="missingVersions"/>
    /// of <paramref name="dependencyFile"/> are no longer needed.
    /// </summary>
    /// <exception cref="NativeLibraryPatchException">A missing version binds a symbol that is not droppable, or a rewrite would change another string.</exception>
    public static NativeLibraryPatch Patch(byte[] original, string dependencyFile, IReadOnlyCollection<string> missingVersions)
    {
        var image = ElfImage.Parse(original);
        var patched = (byte[])original.Clone();
        var edits = new List<NativeLibraryEdit>();
        var droppedSymbols = new List<string>();

        foreach (var versionName in missingVersions)
        {
            var version = image.VersionNeeds
                .Where(need => need.File == dependencyFile)
                .SelectMany(need => need.Versions)
                .FirstOrDefault(candidate => candidate.Name == versionName)
                ?? throw new NativeLibraryPatchException($"The library does not need version {versionName} of {dependencyFile}.");

            var bound = image.DynamicSymbols.Where(symbol => symbol.VersionIndex == version.VersionIndex && symbol.Index != 0).ToList();
            var blocking = bound.Where(symbol => !symbol.IsUndefined || !DroppableSymbols.Contains(symbol.Name)).Select(symbol => symbol.Name).ToList();
            if (blocking.Count > 0)
                throw new NativeLibraryPatchException(
                    $"The library needs {string.Join(", ", blocking)} at version {versionName} of {dependencyFile}, which this system's {dependencyFile} lacks; " +
                    $"install a newer {dependencyFile} (for GLIBCXX versions: the libstdc++ of a newer GCC).");

            edits.Add(Edit(patched, version.FlagsFileOffset, LittleEndian((ushort)(version.Flags | ElfImage.VersionFlagWeak)), $"{versionName}: weak"));
            foreach (var symbol in bound)
            {
                edits.Add(Edit(patched, symbol.VersionFileOffset!.Value, LittleEndian(ElfImage.VersionIndexGlobal), $"{symbol.Name}: unversioned"));
                CheckRenameIsPrivate(image, original, symbol);
                edits.Add(Edit(patched, symbol.NameFileOffset, ReplacementName, $"{symbol.Name}: renamed to getpid"));
                droppedSymbols.Add(symbol.Name);
            }
        }

        return new NativeLibraryPatch(patched, [.. missingVersions], droppedSymbols, edits);
    }

    /// <summary>
    /// String tables share tails (<c>"_init"</c> may point into <c>"ios_base_library_init"</c>):
    /// the overwritten bytes must belong to this name alone, and the name must be long enough.
    /// </summary>
    private static void CheckRenameIsPrivate(ElfImage image, byte[] original, ElfDynamicSymbol symbol)
    {
        var start = symbol.NameFileOffset;
        var replaced = ReplacementName.Length;
        if (Encoding.UTF8.GetByteCount(symbol.Name) + 1 < replaced)
            throw new NativeLibraryPatchException($"{symbol.Name} is shorter than getpid: it cannot be renamed in place.");
        // ELF string tables start with a NUL, so a name that is not a tail has a NUL just before it.
        if (original[start - 1] != 0)
            throw new NativeLibraryPatchException($"{symbol.Name} is the tail of a longer string: renaming it would change that too.");

        var sharer = image.DynamicStringReferences.FirstOrDefault(reference =>
            reference.FileOffset >= start && reference.FileOffset < start + replaced && reference.SymbolIndex != symbol.Index);
        if (sharer is not null)
            throw new NativeLibraryPatchException($"{sharer.Owner} points into the name of {symbol.Name}: renaming it would change that too.");
    }

    private static byte[] LittleEndian(ushort value) => [(byte)value, (byte)(value >> 8)];

    private static NativeLibraryEdit Edit(byte[] bytes, long offset, ReadOnlySpan<byte> value, string what)
    {
        var before = bytes.AsSpan((int)offset, value.Length).ToArray();
        value.CopyTo(bytes.AsSpan((int)offset));
        return new NativeLibraryEdit(offset, before, value.ToArray(), what);
    }
}

/// <param name="Bytes">The patched file, the same length as the original.</param>
/// <param name="WeakenedVersions">The needed versions now marked weak.</param>
/// <param name="DroppedSymbols">The original names of the symbols now bound to <c>getpid</c>.</param>
/// <param name="Edits">Every write, in order; bytes not covered are the original's.</param>
internal sealed record NativeLibraryPatch(byte[] Bytes, IReadOnlyList<string> WeakenedVersions, IReadOnlyList<string> DroppedSymbols, IReadOnlyList<NativeLibraryEdit> Edits);

internal sealed record NativeLibraryEdit(long FileOffset, byte[] Before, byte[] After, string What);

/// <summary>A library cannot be made loadable by <see cref="NativeLibraryPatcher"/>.</summary>
public sealed class NativeLibraryPatchException(string message) : Exception(message);
