using System.Globalization;
using System.Runtime.InteropServices;

namespace Prodigy.Build.Trainer.Native;

/// <summary>Which file a library loaded in this process comes from (Linux).</summary>
internal static class LoadedLibraries
{
    /// <summary>
    /// Loads <paramref name="soname"/> the way the dynamic loader resolves a <c>DT_NEEDED</c> entry
    /// (LD_LIBRARY_PATH, the ld.so cache, the default folders; or the copy already in the process)
    /// and returns the file it came from, or null when it does not load or cannot be found.
    /// </summary>
    /// <remarks>
    /// The loader keeps one library per soname in a process, so once loaded, this is also the copy
    /// every library loaded later gets. The file is found from the address of one of its exports
    /// (<paramref name="exportedSymbol"/>) in <c>/proc/self/maps</c>, which names the real file, not
    /// a guess from names or search paths.
    /// </remarks>
    public static string? Locate(string soname, string exportedSymbol)
    {
        if (!OperatingSystem.IsLinux()
            || !NativeLibrary.TryLoad(soname, out var handle)
            || !NativeLibrary.TryGetExport(handle, exportedSymbol, out var address))
            return null;

        try
        {
            return FindMappedFile(File.ReadLines("/proc/self/maps"), (ulong)address);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The file of the <c>/proc/PID/maps</c> line whose range holds <paramref name="address"/>.</summary>
    /// <remarks>A line: <c>start-end perms offset dev inode path</c>; the path may hold spaces.</remarks>
    public static string? FindMappedFile(IEnumerable<string> mapsLines, ulong address)
    {
        foreach (var line in mapsLines)
        {
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6)
                continue;
            var range = fields[0].Split('-');
            if (range.Length != 2
                || !ulong.TryParse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
                || !ulong.TryParse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end))
                continue;
            if (address >= start && address < end)
            {
                var path = fields[5].Trim();
                return path.StartsWith('/') ? path : null;
            }
        }

        return null;
    }
}
