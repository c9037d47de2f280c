using Prodigy.Build.Trainer;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C (or the build's interrupt) stops at the next batch; the saved models stay.
    e.Cancel = true;
    cancellation.Cancel();
};

return TrainerCommandLine.Run(args, Console.Out, cancellation.Token);
