using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Removes stages from the lock file (<c>dotnet clean</c>): the entries this project wrote, so that
/// the next build runs them; other entries stay. A lock file left without stages is deleted.
/// </summary>
public sealed class ProdigyForgetStages : Microsoft.Build.Utilities.Task
{
    [Required]
    public string LockFile { get; set; } = string.Empty;

    [Required]
    public string[] StageKeys { get; set; } = [];

    public override bool Execute()
    {
        var path = Path.GetFullPath(LockFile);
        if (!File.Exists(path))
        {
            return true;
        }

        using var mutex = ProjectMutex.Acquire(
            path,
            waited => Log.LogMessage(MessageImportance.High, "clean: waiting for another build of this project to finish ({0:0} s; it holds {1})", waited.TotalSeconds, path),
            () => false,
            TimeSpan.FromSeconds(30));
        Incremental.LockFile lockFile;
        try
        {
            lockFile = Incremental.LockFile.Load(path);
        }
        catch (LockFileException)
        {
            // Unreadable: nothing in it can be trusted, so nothing in it is worth keeping.
            File.Delete(path);
            return true;
        }

        var removed = StageKeys.Count(lockFile.Remove);
        if (lockFile.Stages.Count == 0)
        {
            File.Delete(path);
        }
        else if (removed > 0)
        {
            lockFile.Save(path);
        }

        return true;
    }
}
