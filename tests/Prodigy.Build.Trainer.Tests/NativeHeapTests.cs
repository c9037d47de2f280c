using System.Runtime.InteropServices;
using Prodigy.Build.Trainer.Native;

namespace Prodigy.Build.Trainer.Tests;

public class NativeHeapTests
{
    [SkippableFact]
    public void Returning_free_pages_gives_the_freed_blocks_of_the_C_heap_back_to_the_system()
    {
        Skip.IfNot(HasMallocTrim(), "malloc_trim is glibc's");

        // 80 MB of 1 KB blocks, far under the mmap threshold, so they come from the heap; one block
        // allocated after them stays, so that freeing them cannot shrink the heap from its top by itself.
        const int count = 80_000;
        var page = Enumerable.Repeat((byte)1, 1024).ToArray();
        var blocks = new IntPtr[count];
        for (var i = 0; i < count; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(page.Length);
            Marshal.Copy(page, 0, blocks[i], page.Length);
        }

        var last = Marshal.AllocHGlobal(page.Length);
        try
        {
            foreach (var block in blocks)
            {
                Marshal.FreeHGlobal(block);
            }

            var before = ResidentAnonymousKb();
            NativeHeap.ReturnFreePages();
            var after = ResidentAnonymousKb();

            Assert.True(before - after > 40_000, $"resident anonymous memory went from {before} kB to {after} kB");
        }
        finally
        {
            Marshal.FreeHGlobal(last);
        }
    }

    private static bool HasMallocTrim() =>
        OperatingSystem.IsLinux()
        && NativeLibrary.TryLoad("libc.so.6", out var libc)
        && NativeLibrary.TryGetExport(libc, "malloc_trim", out _);

    private static long ResidentAnonymousKb()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
