using System.Diagnostics;
using System.Globalization;

namespace Prodigy.Build.Benchmarks;

/// <summary>Runs <c>dotnet exec</c> of a tool as the SDK does, timing it and sampling its peak resident memory (VmHWM).</summary>
internal static class DotnetProcess
{
    public static (double Seconds, long PeakKb, string Stdout) Exec(string dll, IEnumerable<string> args, int pollMilliseconds = 20)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        long peakKb = 0;
        while (!process.WaitForExit(pollMilliseconds))
        {
            peakKb = Math.Max(peakKb, ReadPeakKb(process.Id));
        }

        var seconds = stopwatch.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(dll)} failed ({process.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
        }

        return (seconds, peakKb, stdout.Result + stderr.Result);
    }

    private static long ReadPeakKb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }
}
