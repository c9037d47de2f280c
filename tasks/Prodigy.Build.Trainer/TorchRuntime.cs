using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Trainer.Native;
using TorchSharp;

namespace Prodigy.Build.Trainer;

/// <summary>The device a model trains on.</summary>
public enum TorchDevice
{
    Cpu,
    Cuda,
}

public sealed class TorchRuntimeOptions
{
    /// <summary>
    /// Where patched copies of native libraries are kept (one folder per original, by content hash).
    /// Default: <c>Prodigy.Build/native</c> in the user's local application data
    /// (<c>~/.local/share</c> on Linux), else in the temporary folder.
    /// </summary>
    public string? NativeCacheDirectory { get; init; }

    /// <summary>Receives one line per decision about the native libraries (what was patched, where the copy is).</summary>
    public Action<string>? Log { get; init; }
}

/// <param name="BuildBackend"><c>ProdigyTorchBackend</c> this trainer was built with: <c>cpu</c> or <c>cuda</c>.</param>
/// <param name="LibTorchSharpPath">The <c>libLibTorchSharp.so</c> loaded ahead of TorchSharp (the patched copy), or null when TorchSharp loaded its own.</param>
/// <param name="PatchedFrom">The original that <paramref name="LibTorchSharpPath"/> was patched from, or null.</param>
/// <param name="WeakenedVersions">The symbol versions the system lacks that the patch made optional.</param>
public sealed record TorchRuntimeInfo(string BuildBackend, string? LibTorchSharpPath, string? PatchedFrom, IReadOnlyList<string> WeakenedVersions);

/// <summary>
/// Starts TorchSharp's native backend so that it works on this machine as it is: call
/// <see cref="Initialize"/> before anything else touches <c>TorchSharp.torch</c>.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>libLibTorchSharp.so</c> needs <c>GLIBCXX_3.4.32</c> (GCC 13's libstdc++) for
/// one symbol it can do without. Where the libstdc++ this process uses lacks a version the library
/// needs (Debian 12, Ubuntu 22.04), a patched copy (<see cref="NativeLibraryPatcher"/>) is written to
/// the cache and loaded first, its libtorch dependencies from where the runtime finds TorchSharp's
/// native assets. TorchSharp then binds to it: its P/Invokes through a resolver on its assembly,
/// its own load by name through the loader's one-library-per-soname rule. Elsewhere nothing is
/// patched. Torch's state is process-wide: the first call decides, later calls only check the device.
/// </remarks>
public static class TorchRuntime
{
    private const string LibStdCxx = "libstdc++.so.6";

    /// <summary>An export every libstdc++ has (<c>std::ios_base::Init::Init()</c>), used to find its file.</summary>
    private const string LibStdCxxExport = "_ZNSt8ios_base4InitC1Ev";

    private static readonly Lock InitializationLock = new();
    private static TorchRuntimeInfo? s_info;

    /// <summary>The <c>ProdigyTorchBackend</c> this assembly was built with.</summary>
    public static string BuildBackend { get; } =
        typeof(TorchRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(attribute => attribute.Key == "ProdigyTorchBackend")?.Value ?? "cpu";

    /// <summary>Whether TorchSharp's native libraries have been loaded in this process.</summary>
    public static bool IsStarted
    {
        get
        {
            lock (InitializationLock)
            {
                return s_info is not null;
            }
        }
    }

    /// <exception cref="TorchBackendUnavailableException"><paramref name="device"/> is CUDA and CUDA cannot be used.</exception>
    /// <exception cref="NativeLibraryPatchException">The system's libstdc++ lacks what TorchSharp really needs.</exception>
    public static TorchRuntimeInfo Initialize(TorchDevice device = TorchDevice.Cpu, TorchRuntimeOptions? options = null)
    {
        TorchRuntimeInfo info;
        lock (InitializationLock)
        {
            info = s_info ??= LoadNativeBackend(options ?? new TorchRuntimeOptions());
        }

        if (device == TorchDevice.Cuda && !torch.cuda.is_available())
            throw TorchBackendUnavailableException.ForCuda(BuildBackend);
        return info;
    }

    private static TorchRuntimeInfo LoadNativeBackend(TorchRuntimeOptions options)
    {
        var log = options.Log ?? (_ => { });
        var info = new TorchRuntimeInfo(BuildBackend, null, null, []);
        if (OperatingSystem.IsLinux())
            info = LoadLinuxLibrary(typeof(torch).Assembly, options.NativeCacheDirectory ?? DefaultCacheDirectory(), log) ?? info;

        StartTorchSharp();
        return info;
    }

    /// <summary>Runs TorchSharp's own start-up (its static constructor loads the backend); kept apart so nothing touches <c>torch</c> before the patched library is in place.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StartTorchSharp() => torch.InitializeDeviceType(DeviceType.CPU);

    /// <summary>Loads a patched <c>libLibTorchSharp.so</c> when the system needs one; null when it does not.</summary>
    private static TorchRuntimeInfo? LoadLinuxLibrary(Assembly torchSharp, string cacheDirectory, Action<string> log)
    {
        var original = LibTorchSharpLocator.FindLinuxLibrary(torchSharp);
        if (original is null)
        {
            log($"{LibTorchSharpLocator.LinuxFileName} not found beside TorchSharp or in the NuGet cache; TorchSharp loads it as it can.");
            return null;
        }

        var libStdCxx = LoadedLibraries.Locate(LibStdCxx, LibStdCxxExport);
        if (libStdCxx is null)
        {
            log($"{LibStdCxx} not found in this process; {LibTorchSharpLocator.LinuxFileName} loads unpatched.");
            return null;
        }

        var originalBytes = File.ReadAllBytes(original);
        var image = ElfImage.Parse(originalBytes);
        var available = ElfImage.Read(libStdCxx).VersionDefinitions.ToHashSet(StringComparer.Ordinal);
        var missing = NativeLibraryPatcher.FindMissingVersions(image, LibStdCxx, available);
        if (missing.Count == 0)
            return null;

        var (patchedPath, reused) = WritePatchedCopy(originalBytes, missing, cacheDirectory);
        log($"{LibTorchSharpLocator.LinuxFileName} patched: system libstdc++ lacks {string.Join(", ", missing)} ({libStdCxx}); " +
            $"copy at {patchedPath}{(reused ? " (cached)" : "")}, from {original}");

        var searchDirectories = LibTorchSharpLocator.NativeSearchDirectories(torchSharp);
        foreach (var needed in image.NeededLibraries)
        {
            // libtorch and friends come from where the runtime (and so TorchSharp) finds them; the
            // system's own libraries are left to the loader.
            if (LibTorchSharpLocator.FindDependency(needed, searchDirectories, original) is { } dependency)
                LoadOrExplain(dependency, $"a dependency of {LibTorchSharpLocator.LinuxFileName}");
        }

        var handle = LoadOrExplain(patchedPath, "the patched TorchSharp native library");
        try
        {
            NativeLibrary.SetDllImportResolver(torchSharp, (name, _, _) => name == LibTorchSharpLocator.LibraryName ? handle : IntPtr.Zero);
        }
        catch (InvalidOperationException)
        {
            // An assembly takes one resolver; if the host set one, TorchSharp's P/Invokes still reach the
            // copy: their load by name ("libLibTorchSharp.so") matches its soname, and the loader keeps one per soname.
            log("TorchSharp already has a DllImport resolver; its P/Invokes reach the patched copy through its soname.");
        }

        return new TorchRuntimeInfo(BuildBackend, patchedPath, original, missing);
    }

    /// <summary>The patched copy in the cache, written unless an earlier run left it; one folder per original (SHA-256) and missing versions.</summary>
    internal static (string Path, bool Reused) WritePatchedCopy(byte[] original, IReadOnlyList<string> missing, string cacheDirectory)
    {
        var path = Path.Combine(Path.GetFullPath(cacheDirectory), Convert.ToHexStringLower(SHA256.HashData(original)),
            string.Join("+", missing), LibTorchSharpLocator.LinuxFileName);
        // Written by rename, so an existing file is complete; a patch never changes the length.
        if (File.Exists(path) && new FileInfo(path).Length == original.Length)
            return (path, true);

        var patch = NativeLibraryPatcher.Patch(original, LibStdCxx, missing);
        AtomicFile.WriteAllBytes(path, patch.Bytes);
        return (path, false);
    }

    private static nint LoadOrExplain(string path, string what)
    {
        try
        {
            return NativeLibrary.Load(path);
        }
        catch (DllNotFoundException exception)
        {
            throw new DllNotFoundException($"Could not load {what}, {path}: {exception.Message}", exception);
        }
    }

    private static string DefaultCacheDirectory()
    {
        var root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        return Path.Combine(root.Length > 0 ? root : Path.GetTempPath(), "Prodigy.Build", "native");
    }
}
