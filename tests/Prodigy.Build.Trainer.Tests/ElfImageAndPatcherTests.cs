using Prodigy.Build.Trainer.Native;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>The ELF reader and the patcher on small ELF files written by <see cref="SyntheticElf"/>.</summary>
public class ElfImageAndPatcherTests
{
    private const string LibStdCxx = "libstdc++.so.6";
    private const string DroppableSymbol = "_ZSt21ios_base_library_initv";

    /// <summary>Like libLibTorchSharp.so: needs GLIBCXX_3.4.30 and 3.4.32 from libstdc++, the latter for one droppable symbol.</summary>
    private static SyntheticElf LibraryLikeLibTorchSharp()
    {
        var elf = new SyntheticElf { Soname = "libLike.so" };
        elf.NeededLibraries.AddRange(["libtorch.so", LibStdCxx, "libc.so.6"]);
        elf.Needs.Add(("libc.so.6", [("GLIBC_2.2.5", 2, 0)]));
        elf.Needs.Add((LibStdCxx, [("GLIBCXX_3.4.30", 3, 0), ("GLIBCXX_3.4.32", 4, 0)]));
        elf.Definitions.Add("LIKE_1.0");
        elf.Symbols.Add(("malloc", true, 2));
        elf.Symbols.Add(("_ZNSt6chrono3_V212system_clock3nowEv", true, 3));
        elf.Symbols.Add((DroppableSymbol, true, 4));
        elf.Symbols.Add(("THSTorch_manual_seed", false, 1));
        return elf;
    }

    [Fact]
    public void Parse_ReadsSymbolsVersionsAndNeededLibraries()
    {
        var image = ElfImage.Parse(LibraryLikeLibTorchSharp().Build());

        Assert.Equal(["", "malloc", "_ZNSt6chrono3_V212system_clock3nowEv", DroppableSymbol, "THSTorch_manual_seed"], image.DynamicSymbols.Select(symbol => symbol.Name));
        Assert.Equal([0, 2, 3, 4, 1], image.DynamicSymbols.Select(symbol => (int)symbol.VersionIndex));
        Assert.True(image.DynamicSymbols[3].IsUndefined);
        Assert.False(image.DynamicSymbols[4].IsUndefined);
        Assert.Equal(["libc.so.6", LibStdCxx], image.VersionNeeds.Select(need => need.File));
        Assert.Equal(["GLIBCXX_3.4.30", "GLIBCXX_3.4.32"], image.VersionNeeds[1].Versions.Select(version => version.Name));
        Assert.Equal(["LIKE_1.0"], image.VersionDefinitions);
        Assert.Equal(["libtorch.so", LibStdCxx, "libc.so.6"], image.NeededLibraries);
        Assert.Equal("libLike.so", image.SharedObjectName);
        Assert.Contains(image.Sections, section => section.Name == ".gnu.version_r");
    }

    [Fact]
    public void FindMissingVersions_ListsOnlyTheDependencysStrongVersionsItLacks()
    {
        var elf = LibraryLikeLibTorchSharp();
        elf.Needs[1].Versions[0].Flags = 0x2;
        var image = ElfImage.Parse(elf.Build());

        // GLIBCXX_3.4.30 is weak here, so only 3.4.32 counts; libc's versions are another file's.
        Assert.Equal(["GLIBCXX_3.4.32"], NativeLibraryPatcher.FindMissingVersions(image, LibStdCxx, new HashSet<string>()));
        Assert.Empty(NativeLibraryPatcher.FindMissingVersions(image, LibStdCxx, new HashSet<string> { "GLIBCXX_3.4.32" }));
    }

    [Fact]
    public void Patch_MakesTheVersionWeakAndRebindsItsSymbolToGetpid_ChangingOnlyThoseBytes()
    {
        var elf = LibraryLikeLibTorchSharp();
        var original = elf.Build();

        var patch = NativeLibraryPatcher.Patch(original, LibStdCxx, ["GLIBCXX_3.4.32"]);

        var patched = ElfImage.Parse(patch.Bytes);
        Assert.True(patched.VersionNeeds[1].Versions[1].IsWeak);
        Assert.False(patched.VersionNeeds[1].Versions[0].IsWeak);
        Assert.Equal("getpid", patched.DynamicSymbols[3].Name);
        Assert.Equal(1, patched.DynamicSymbols[3].VersionIndex);
        Assert.DoesNotContain(patched.DynamicSymbols, symbol => symbol.Name == DroppableSymbol);
        Assert.Equal(["GLIBCXX_3.4.32"], patch.WeakenedVersions);
        Assert.Equal([DroppableSymbol], patch.DroppedSymbols);
        // The droppable symbol is the third of the builder's symbols.
        var expected = PatchExpectations.ExpectedOffsets(elf.Layout.VersionFlags[(LibStdCxx, "GLIBCXX_3.4.32")], elf.Layout.SymbolVersions[2], elf.Layout.SymbolNames[DroppableSymbol]);
        Assert.Equal(expected, PatchExpectations.DifferingOffsets(original, patch.Bytes));
        Assert.Empty(NativeLibraryPatcher.FindMissingVersions(patched, LibStdCxx, new HashSet<string> { "GLIBCXX_3.4.30" }));
    }

    [Fact]
    public void Patch_RefusesAMissingVersionThatBindsASymbolTheLibraryNeeds()
    {
        var original = LibraryLikeLibTorchSharp().Build();

        var error = Assert.Throws<NativeLibraryPatchException>(() => NativeLibraryPatcher.Patch(original, LibStdCxx, ["GLIBCXX_3.4.30"]));

        Assert.Contains("_ZNSt6chrono3_V212system_clock3nowEv", error.Message);
        Assert.Contains("GLIBCXX_3.4.30", error.Message);
    }

    [Fact]
    public void Patch_RefusesToRenameANameAnotherStringSharesBytesWith()
    {
        var elf = LibraryLikeLibTorchSharp();
        elf.NeededInsideStrings.Add((DroppableSymbol, 3));

        var error = Assert.Throws<NativeLibraryPatchException>(() => NativeLibraryPatcher.Patch(elf.Build(), LibStdCxx, ["GLIBCXX_3.4.32"]));

        Assert.Contains("points into the name", error.Message);
    }

    [Fact]
    public void Patch_RenamesANameWhoseTailAnotherStringShares()
    {
        // A string starting past the overwritten "getpid\0" keeps its bytes.
        var elf = LibraryLikeLibTorchSharp();
        elf.NeededInsideStrings.Add((DroppableSymbol, 10));
        var original = elf.Build();

        var patch = NativeLibraryPatcher.Patch(original, LibStdCxx, ["GLIBCXX_3.4.32"]);

        Assert.Equal(ElfImage.Parse(original).NeededLibraries, ElfImage.Parse(patch.Bytes).NeededLibraries);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(40)]
    [InlineData(200)]
    public void Parse_TruncatedFile_IsInvalidData(int length)
    {
        var bytes = LibraryLikeLibTorchSharp().Build();

        Assert.Throws<InvalidDataException>(() => ElfImage.Parse(bytes[..Math.Min(length, bytes.Length)]));
    }

    [Fact]
    public void Parse_NotElfOr32Bit_IsInvalidData()
    {
        var bytes = LibraryLikeLibTorchSharp().Build();
        var thirtyTwoBit = (byte[])bytes.Clone();
        thirtyTwoBit[4] = 1;

        Assert.Contains("Not an ELF", Assert.Throws<InvalidDataException>(() => ElfImage.Parse(new byte[100])).Message);
        Assert.Contains("64-bit", Assert.Throws<InvalidDataException>(() => ElfImage.Parse(thirtyTwoBit)).Message);
    }

    [Fact]
    public void FindMappedFile_TakesThePathOfTheRangeHoldingTheAddress()
    {
        string[] maps =
        [
            "7f0000000000-7f0000001000 r--p 00000000 fe:01 100   /usr/lib/libfirst.so",
            "7f0000001000-7f0000005000 r-xp 00001000 fe:01 200   /opt/with space/libstdc++.so.6.0.30",
            "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0     [stack]",
        ];

        Assert.Equal("/opt/with space/libstdc++.so.6.0.30", LoadedLibraries.FindMappedFile(maps, 0x7f0000004fff));
        Assert.Null(LoadedLibraries.FindMappedFile(maps, 0x7ffd00000010));
        Assert.Null(LoadedLibraries.FindMappedFile(maps, 0x10));
    }
}
