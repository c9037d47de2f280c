using System.Text;
using Prodigy.Build.Trainer.Native;
using TorchSharp;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>The patcher on the real libLibTorchSharp.so of the restored TorchSharp package (Linux).</summary>
public class LibTorchSharpPatchTests
{
    private const string LibStdCxx = "libstdc++.so.6";
    private const string Version = "GLIBCXX_3.4.32";
    private const string Symbol = "_ZSt21ios_base_library_initv";

    private static byte[]? OriginalLibrary() =>
        OperatingSystem.IsLinux() && LibTorchSharpLocator.FindLinuxLibrary(typeof(torch).Assembly) is { } path ? File.ReadAllBytes(path) : null;

    [Fact]
    public void RealLibrary_NeedsGlibcxx3432ForOneDroppableSymbol()
    {
        if (OriginalLibrary() is not { } original)
            return;
        var image = ElfImage.Parse(original);

        var version = image.VersionNeeds.Single(need => need.File == LibStdCxx).Versions.Single(candidate => candidate.Name == Version);
        Assert.False(version.IsWeak);
        Assert.Equal([Symbol], image.DynamicSymbols.Where(symbol => symbol.VersionIndex == version.VersionIndex).Select(symbol => symbol.Name));
        Assert.Contains("libtorch.so", image.NeededLibraries);
        Assert.Equal("libLibTorchSharp.so", image.SharedObjectName);
    }

    [Fact]
    public void RealLibrary_Patched_StillParses_VersionIsWeak_SymbolGone_OnlyExpectedBytesDiffer()
    {
        if (OriginalLibrary() is not { } original)
            return;

        var patch = NativeLibraryPatcher.Patch(original, LibStdCxx, [Version]);

        var patched = ElfImage.Parse(patch.Bytes);
        Assert.True(patched.VersionNeeds.Single(need => need.File == LibStdCxx).Versions.Single(candidate => candidate.Name == Version).IsWeak);
        Assert.DoesNotContain(patched.DynamicSymbols, symbol => symbol.Name == Symbol);
        var dynamicStrings = patched.FindSection(ElfImage.SectionTypeDynamicSymbols) is { } dynsym ? patched.Sections[(int)dynsym.Link] : null;
        Assert.NotNull(dynamicStrings);
        Assert.False(patch.Bytes.AsSpan((int)dynamicStrings.Offset, (int)dynamicStrings.Size).IndexOf(Encoding.ASCII.GetBytes(Symbol + "\0")) >= 0);

        var differing = PatchExpectations.DifferingOffsets(original, patch.Bytes);
        Assert.Equal(PatchExpectations.ExpectedOffsets(original, LibStdCxx, Version), differing);
        // vna_flags 0 -> 2, .gnu.version 18 -> 1 (one byte each), "_ZSt21i" -> "getpid\0" (seven).
        Assert.Equal(9, differing.Count);
        Assert.Equal(ElfImage.Parse(original).NeededLibraries, patched.NeededLibraries);
        Assert.Equal(ElfImage.Parse(original).DynamicSymbols.Count, patched.DynamicSymbols.Count);
    }

    [Fact]
    public void SystemCheck_AgreesWithTheLibStdCxxFileItself()
    {
        if (!OperatingSystem.IsLinux())
            return;

        var path = LoadedLibraries.Locate(LibStdCxx, "_ZNSt8ios_base4InitC1Ev");

        Assert.NotNull(path);
        var bytes = File.ReadAllBytes(path);
        var definesByStrings = bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Version + "\0")) >= 0;
        Assert.Equal(definesByStrings, ElfImage.Parse(bytes).VersionDefinitions.Contains(Version));
        Assert.Contains("GLIBCXX_3.4", ElfImage.Parse(bytes).VersionDefinitions);
    }
}
