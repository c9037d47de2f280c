using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks.Tests.Incremental;

public sealed class ProjectMutexTests
{
    private readonly string _lockFile = Path.Combine(Path.GetTempPath(), "prodigy-mutex-tests", Guid.NewGuid().ToString("N"), "prodigy.lock");

    [Fact]
    public async Task A_second_holder_waits_until_the_first_lets_go()
    {
        var waits = 0;
        var first = ProjectMutex.Acquire(_lockFile, _ => { }, () => false, TimeSpan.FromSeconds(30));
        Assert.NotNull(first);
        var second = Task.Run(() => ProjectMutex.Acquire(_lockFile, _ => Interlocked.Increment(ref waits), () => false, TimeSpan.FromSeconds(30)));
        // The second holder reports that it waits (however late its task starts), and does not get the mutex.
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref waits) >= 1, TimeSpan.FromSeconds(30)));
        await Task.Delay(200);
        Assert.False(second.IsCompleted);

        first.Dispose();

        using var acquired = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(acquired);
        Assert.Equal(1, waits);
    }

    [Fact]
    public async Task Waiting_stops_when_the_build_is_cancelled()
    {
        using var first = ProjectMutex.Acquire(_lockFile, _ => { }, () => false, TimeSpan.FromSeconds(30));
        var cancelled = false;

        var waiting = 0;
        var second = Task.Run(() => ProjectMutex.Acquire(_lockFile, _ => Interlocked.Increment(ref waiting), () => Volatile.Read(ref cancelled), TimeSpan.FromSeconds(30)));
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref waiting) >= 1, TimeSpan.FromSeconds(30)));
        Volatile.Write(ref cancelled, true);

        Assert.Null(await second.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
