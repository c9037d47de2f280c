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

    // Where the patch must write in TorchSharp 0.107.0's linux-x64 libLibTorchSharp.so (the package this
    // project pins), read once with binutils' readelf, not with the ElfImage parser the patcher uses:
    //   readelf -S -W:  [ 4] .dynstr STRTAB ... 016760;  [ 5] .gnu.version VERSYM ... 03dfae;  [ 6] .gnu.version_r VERNEED ... 03f8f0
    //   readelf -V -W:  .gnu.version_r  0x0140:   Name: GLIBCXX_3.4.32  Flags: none  Version: 18
    //   readelf --dyn-syms -W:  482: 0 0 FUNC GLOBAL DEFAULT UND _ZSt21ios_base_library_initv@GLIBCXX_3.4.32 (18)
    //   readelf -p .dynstr -W:  [    55]  _ZSt21ios_base_library_initv
    private const string LibrarySha256 = "cf33b1b0bb6bbb9754a768fb5c5d04d9f498603be50e73f55621a0b40ee608b8";
    private const long VersionFlagsOffset = 0x03f8f0 + 0x140 + 4; // the Vernaux's vna_flags: after its 4-byte vna_hash
    private const long SymbolVersionOffset = 0x03dfae + (2 * 482); // symbol 482's 2-byte .gnu.version entry
    private const long SymbolNameOffset = 0x016760 + 0x55;

    private static byte[] OriginalLibrary()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "libLibTorchSharp.so is the Linux library");
        var path = LibTorchSharpLocator.FindLinuxLibrary(typeof(torch).Assembly);
        Assert.True(path is not null, "the restored TorchSharp package has no libLibTorchSharp.so");
        return File.ReadAllBytes(path);
    }

    [SkippableFact]
    public void RealLibrary_NeedsGlibcxx3432ForOneDroppableSymbol()
    {
        var original = OriginalLibrary();
        var image = ElfImage.Parse(original);

        var version = image.VersionNeeds.Single(need => need.File == LibStdCxx).Versions.Single(candidate => candidate.Name == Version);
        Assert.False(version.IsWeak);
        Assert.Equal([Symbol], image.DynamicSymbols.Where(symbol => symbol.VersionIndex == version.VersionIndex).Select(symbol => symbol.Name));
        Assert.Contains("libtorch.so", image.NeededLibraries);
        Assert.Equal("libLibTorchSharp.so", image.SharedObjectName);
    }

    [SkippableFact]
    public void RealLibrary_Patched_StillParses_VersionIsWeak_SymbolGone_OnlyExpectedBytesDiffer()
    {
        var original = OriginalLibrary();
        Assert.True(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(original)) == LibrarySha256,
            "not TorchSharp 0.107.0's libLibTorchSharp.so: record the offsets below again with readelf for the new package");

        var patch = NativeLibraryPatcher.Patch(original, LibStdCxx, [Version]);

        var patched = ElfImage.Parse(patch.Bytes);
        Assert.True(patched.VersionNeeds.Single(need => need.File == LibStdCxx).Versions.Single(candidate => candidate.Name == Version).IsWeak);
        Assert.DoesNotContain(patched.DynamicSymbols, symbol => symbol.Name == Symbol);
        var dynamicStrings = patched.FindSection(ElfImage.SectionTypeDynamicSymbols) is { } dynsym ? patched.Sections[(int)dynsym.Link] : null;
        Assert.NotNull(dynamicStrings);
        Assert.False(patch.Bytes.AsSpan((int)dynamicStrings.Offset, (int)dynamicStrings.Size).IndexOf(Encoding.ASCII.GetBytes(Symbol + "\0")) >= 0);

        var differing = PatchExpectations.DifferingOffsets(original, patch.Bytes);
        Assert.Equal(PatchExpectations.ExpectedOffsets(VersionFlagsOffset, SymbolVersionOffset, SymbolNameOffset), differing);
        // vna_flags 0 -> 2, .gnu.version 18 -> 1 (one byte each), "_ZSt21i" -> "getpid\0" (seven).
        Assert.Equal(9, differing.Count);
        Assert.Equal(ElfImage.Parse(original).NeededLibraries, patched.NeededLibraries);
        Assert.Equal(ElfImage.Parse(original).DynamicSymbols.Count, patched.DynamicSymbols.Count);
    }

    [SkippableFact]
    public void SystemCheck_AgreesWithTheLibStdCxxFileItself()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "libstdc++.so.6 is looked up on Linux");

        var path = LoadedLibraries.Locate(LibStdCxx, "_ZNSt8ios_base4InitC1Ev");

        Assert.NotNull(path);
        var bytes = File.ReadAllBytes(path);
        var definesByStrings = bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Version + "\0")) >= 0;
        Assert.Equal(definesByStrings, ElfImage.Parse(bytes).VersionDefinitions.Contains(Version));
        Assert.Contains("GLIBCXX_3.4", ElfImage.Parse(bytes).VersionDefinitions);
    }
}
