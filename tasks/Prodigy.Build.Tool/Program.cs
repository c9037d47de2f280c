using Prodigy.Build.Tool;

// Ctrl+C (or MSBuild cancelling the build) asks the running command to stop; outputs are written
// to temporary files and renamed only when complete, so earlier outputs stay intact.
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

return await CommandLine.RunAsync(args, Console.In, Console.Out, Console.Error, cancellation.Token);
