using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks.Tests.Incremental;

/// <summary>
/// The mutex, driven from its own wait callback: the second holder's callback runs only once it has
/// found the mutex held, so the tests need no second thread and no timing.
/// </summary>
public sealed class ProjectMutexTests
{
    private readonly string _lockFile = Path.Combine(Path.GetTempPath(), "prodigy-mutex-tests", Guid.NewGuid().ToString("N"), "prodigy.lock");

    [Fact]
    public void A_second_holder_waits_until_the_first_lets_go()
    {
        var first = ProjectMutex.Acquire(_lockFile, _ => { }, () => false, TimeSpan.FromSeconds(30));
        Assert.NotNull(first);
        var waits = 0;

        // The second holder reports that it waits, and gets the mutex once the first lets go.
        using var second = ProjectMutex.Acquire(_lockFile, _ =>
        {
            waits++;
            first.Dispose();
        }, () => false, TimeSpan.FromSeconds(30));

        Assert.NotNull(second);
        Assert.Equal(1, waits);
        // And now it is the holder: a third waits in turn.
        var thirdWaited = false;
        Assert.Null(ProjectMutex.Acquire(_lockFile, _ => thirdWaited = true, () => thirdWaited, TimeSpan.FromSeconds(30)));
        Assert.True(thirdWaited);
    }

    [Fact]
    public void Waiting_stops_when_the_build_is_cancelled()
    {
        using var first = ProjectMutex.Acquire(_lockFile, _ => { }, () => false, TimeSpan.FromSeconds(30));
        var cancelled = false;

        var second = ProjectMutex.Acquire(_lockFile, _ => cancelled = true, () => cancelled, TimeSpan.FromSeconds(30));

        Assert.Null(second);
        Assert.True(cancelled);
    }
}
