using Prodigy.Build.Trainer.Native;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>What a patch must change, worked out from the ELF specification rather than from the patcher.</summary>
internal static class PatchExpectations
{
    public static SortedSet<long> DifferingOffsets(byte[] original, byte[] patched)
    {
        Assert.Equal(original.Length, patched.Length);
        var offsets = new SortedSet<long>();
        for (var i = 0; i < original.Length; i++)
        {
            if (original[i] != patched[i])
                offsets.Add(i);
        }

        return offsets;
    }

    /// <summary>
    /// The bytes that must differ when <paramref name="version"/> of <paramref name="file"/> is made weak
    /// and its symbols are unversioned and renamed to getpid: vna_flags gains bit 0x2, each symbol's
    /// .gnu.version becomes 1, and the first bytes of its name become "getpid\0".
    /// </summary>
    public static SortedSet<long> ExpectedOffsets(byte[] original, string file, string version)
    {
        var image = ElfImage.Parse(original);
        var aux = image.VersionNeeds.Single(need => need.File == file).Versions.Single(candidate => candidate.Name == version);
        var expected = new SortedSet<long>();
        if ((aux.Flags & 0x2) == 0)
            expected.Add(aux.FlagsFileOffset);

        foreach (var symbol in image.DynamicSymbols.Where(symbol => symbol.VersionIndex == aux.VersionIndex))
        {
            var versionOffset = symbol.VersionFileOffset!.Value;
            if (original[versionOffset] != 1)
                expected.Add(versionOffset);
            if (original[versionOffset + 1] != 0)
                expected.Add(versionOffset + 1);
            var replacement = "getpid\0"u8;
            for (var i = 0; i < replacement.Length; i++)
            {
                if (original[symbol.NameFileOffset + i] != replacement[i])
                    expected.Add(symbol.NameFileOffset + i);
            }
        }

        return expected;
    }
}
