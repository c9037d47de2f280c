namespace Prodigy.Build.Trainer.Tests;

/// <summary>What a patch must change, worked out from the ELF specification and the file's layout rather than from the patcher's parser.</summary>
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
    /// The bytes that must differ when a version is made weak and its one symbol unversioned and renamed
    /// to getpid, from where the three fields are (found independently of the parser under test): vna_flags
    /// gains bit 0x2 (its low byte), the symbol's .gnu.version becomes 1 (its low byte; the index is below
    /// 256), and the first seven bytes of its name become "getpid\0" (each differs from a C++ name's).
    /// </summary>
    public static SortedSet<long> ExpectedOffsets(long versionFlags, long symbolVersion, long symbolName)
    {
        var expected = new SortedSet<long> { versionFlags, symbolVersion };
        for (var i = 0; i < "getpid\0".Length; i++)
            expected.Add(symbolName + i);

        return expected;
    }
}
