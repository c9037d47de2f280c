using System.Reflection;

namespace Prodigy.Build.Trainer.Native;

/// <summary>Where the runtime finds TorchSharp's native libraries, looked at as the runtime and TorchSharp look.</summary>
internal static class LibTorchSharpLocator
{
    public const string LibraryName = "LibTorchSharp";
    public const string LinuxFileName = "libLibTorchSharp.so";

    /// <summary>
    /// The folders the runtime probes for a native library of <paramref name="managedAssembly"/>, in its
    /// order: the app's native asset folders from <c>*.deps.json</c> (<c>NATIVE_DLL_SEARCH_DIRECTORIES</c>,
    /// e.g. <c>bin/runtimes/linux-x64/native/</c>, or the NuGet cache when assets are not copied), then the
    /// assembly's own folder.
    /// </summary>
    public static IReadOnlyList<string> NativeSearchDirectories(Assembly managedAssembly)
    {
        var directories = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string probing)
            directories.AddRange(probing.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (Path.GetDirectoryName(managedAssembly.Location) is { Length: > 0 } assemblyDirectory)
            directories.Add(assemblyDirectory);
        return directories.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The <c>libLibTorchSharp.so</c> that loading "LibTorchSharp" for TorchSharp would pick: the first in
    /// <see cref="NativeSearchDirectories"/>, else the TorchSharp package in the NuGet cache (where
    /// TorchSharp itself looks last). Null if there is none.
    /// </summary>
    public static string? FindLinuxLibrary(Assembly torchSharpAssembly)
    {
        foreach (var directory in NativeSearchDirectories(torchSharpAssembly))
        {
            var candidate = Path.Combine(directory, LinuxFileName);
            if (File.Exists(candidate))
                return candidate;
        }

        var version = torchSharpAssembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var inCache = version is null ? null : Path.Combine(packages, "torchsharp", version, "runtimes", "linux-x64", "native", LinuxFileName);
        return inCache is not null && File.Exists(inCache) ? inCache : null;
    }

    /// <summary>
    /// The file <paramref name="fileName"/> (a <c>DT_NEEDED</c> name of the original library) that
    /// TorchSharp's own loads by name would get: the first in the runtime's native folders, else the
    /// one beside the original (its RUNPATH is <c>$ORIGIN</c>). Null for a system library.
    /// </summary>
    public static string? FindDependency(string fileName, IEnumerable<string> searchDirectories, string originalLibrary) =>
        searchDirectories.Append(Path.GetDirectoryName(originalLibrary)!)
            .Select(directory => Path.Combine(directory, fileName))
            .FirstOrDefault(File.Exists);
}
