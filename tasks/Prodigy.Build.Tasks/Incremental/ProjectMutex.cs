using System.Diagnostics;

namespace Prodigy.Build.Tasks.Incremental;

/// <summary>
/// One build at a time per lock file, across processes (an IDE and a terminal building the same
/// project): an exclusive handle on a file in the temporary folder named after the lock file's
/// path. The operating system releases it when the holder exits, however it exits, so a killed
/// build never leaves a stale lock behind.
/// </summary>
internal sealed class ProjectMutex : IDisposable
{
    private readonly FileStream _handle;

    private ProjectMutex(FileStream handle) => _handle = handle;

    public static string PathFor(string lockFile)
    {
        var full = Path.GetFullPath(lockFile);
        var key = ContentHash.OfText(Path.DirectorySeparatorChar == '\\' ? full.ToUpperInvariant() : full);
        return Path.Combine(Path.GetTempPath(), "prodigy-build-locks", key.Substring(0, 24) + ".busy");
    }

    /// <summary>
    /// Waits for the mutex. <paramref name="onWait"/> is called once when another build holds it, then
    /// every <paramref name="reminder"/>; returns null when <paramref name="cancelled"/> says stop.
    /// </summary>
    public static ProjectMutex? Acquire(string lockFile, Action<TimeSpan> onWait, Func<bool> cancelled, TimeSpan reminder)
    {
        var path = PathFor(lockFile);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var waited = Stopwatch.StartNew();
        var nextReminder = TimeSpan.Zero;
        while (true)
        {
            try
            {
                return new ProjectMutex(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
            }
            catch (IOException) when (!cancelled())
            {
                if (waited.Elapsed >= nextReminder)
                {
                    onWait(waited.Elapsed);
                    nextReminder = waited.Elapsed + reminder;
                }

                Thread.Sleep(100);
            }
            catch (IOException)
            {
                return null;
            }

            if (cancelled())
            {
                return null;
            }
        }
    }

    public void Dispose() => _handle.Dispose();
}
