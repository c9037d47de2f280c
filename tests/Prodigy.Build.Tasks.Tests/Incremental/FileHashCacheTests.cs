using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks.Tests.Incremental;

public sealed class FileHashCacheTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-hash-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string File1 => Path.Combine(_directory, "a.jsonl");

    private string CachePath => Path.Combine(_directory, "obj", "prodigy.hashes");

    [Fact]
    public void The_hash_is_xxhash128_of_the_content()
    {
        File.WriteAllText(File1, "hello");

        var (size, hash) = FileHashCache.Load(null).Get(File1);

        Assert.Equal(5, size);
        Assert.Equal(Convert.ToHexString(System.IO.Hashing.XxHash128.Hash("hello"u8)).ToLowerInvariant(), hash);
    }

    [Fact]
    public void An_old_file_with_unchanged_size_and_time_is_not_read_again()
    {
        File.WriteAllText(File1, "hello");
        File.SetLastWriteTimeUtc(File1, DateTime.UtcNow.AddHours(-1));
        var first = FileHashCache.Load(CachePath);
        var hash = first.Get(File1).Hash;
        first.Save();

        var second = FileHashCache.Load(CachePath);
        Assert.Equal(hash, second.Get(File1).Hash);
        Assert.Equal(0, second.FilesHashed);

        // Same size and time, other content: the cache vouches (as git's index does); a new time
        // or size is noticed.
        File.WriteAllText(File1, "HELLO");
        File.SetLastWriteTimeUtc(File1, DateTime.UtcNow.AddMinutes(-30));
        Assert.NotEqual(hash, second.Get(File1).Hash);
        Assert.Equal(1, second.FilesHashed);
    }

    [Theory]
    [InlineData(0.0, 1)]
    [InlineData(1.9, 1)]
    [InlineData(2.1, 0)]
    [InlineData(60.0, 0)]
    public void A_file_written_within_two_seconds_before_it_was_hashed_is_hashed_again(double secondsBeforeHashing, int hashedAgain)
    {
        // The clock is fixed, so the result does not depend on how fast the test runs.
        var written = new DateTime(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);
        File.WriteAllText(File1, "hello");
        File.SetLastWriteTimeUtc(File1, written);
        var first = FileHashCache.Load(CachePath);
        first.UtcNow = () => written.AddSeconds(secondsBeforeHashing);
        first.Get(File1);
        first.Save();

        var second = FileHashCache.Load(CachePath);
        second.Get(File1);

        Assert.Equal(hashedAgain, second.FilesHashed);
    }

    [Fact]
    public void A_garbled_cache_is_an_empty_one()
    {
        File.WriteAllText(File1, "hello");
        Directory.CreateDirectory(Path.GetDirectoryName(CachePath)!);
        File.WriteAllText(CachePath, "garbage\tline\n\0\0\n" + new string('x', 32) + "\t1\t2\t3\t" + File1 + "\n");

        var cache = FileHashCache.Load(CachePath);

        Assert.Equal(5, cache.Get(File1).Size);
        Assert.Equal(1, cache.FilesHashed);
    }
}
