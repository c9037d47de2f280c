using System.Runtime.InteropServices;

namespace Prodigy.Build.Trainer.Native;

/// <summary>The C library's heap, which TorchSharp's tensors on the CPU are allocated from.</summary>
internal static class NativeHeap
{
    private static bool _unavailable = !OperatingSystem.IsLinux();

    /// <summary>
    /// Gives the pages of the C heap that hold no allocation back to the system (glibc's
    /// <c>malloc_trim(0)</c>); no-op where there is none (other systems, a C library without it).
    /// </summary>
    /// <remarks>
    /// glibc keeps what torch frees for reuse: after a step of food_ingredients' NER, about 30 MB of its
    /// heap were free but still resident, and an evaluation's own memory then came on top of them, which
    /// made the evaluation the run's peak. Trimmed around each evaluation (before the write, before the
    /// scoring, after), the next steps fault in what they need again, a cost of milliseconds per evaluation.
    /// </remarks>
    public static void ReturnFreePages()
    {
        if (_unavailable)
            return;

        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            _unavailable = true;
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
