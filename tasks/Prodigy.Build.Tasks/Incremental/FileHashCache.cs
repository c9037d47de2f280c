using System.Globalization;
using System.Text;

namespace Prodigy.Build.Tasks.Incremental;

/// <summary>
/// Remembers each file's size, modification time and content hash, as git's index does, so that a
/// build with nothing changed reads no data: a file is hashed again only when its size or time
/// changed, or when it was modified so close to the moment it was hashed that a later write within
/// the file system's time resolution could have gone unseen ("racy" entries, as git calls them).
/// </summary>
/// <remarks>
/// A plain text file, one entry per line: <c>hash TAB size TAB mtime-ticks TAB hashed-at-ticks TAB full path</c>.
/// A missing or unreadable cache is an empty one; it only ever saves work.
/// </remarks>
internal sealed class FileHashCache
{
    private const string Header = "# Prodigy.Build.Sdk file hash cache v1: hash size mtime hashed-at path";

    // Two seconds cover the coarsest common time stamps (FAT's 2 s; ext4 and NTFS are finer).
    private static readonly long RacyWindowTicks = TimeSpan.FromSeconds(2).Ticks;

    private const string DigestPrefix = "digest\t";

    private readonly string? _path;
    private readonly Dictionary<string, Entry> _entries;
    private readonly Dictionary<string, DigestEntry> _digests = new(StringComparer.Ordinal);
    private bool _changed;

    private Func<DateTime> _utcNow = () => DateTime.UtcNow;

    private FileHashCache(string? path, Dictionary<string, Entry> entries)
    {
        _path = path;
        _entries = entries;
    }

    /// <summary>The clock that stamps when a file was hashed (the system's; tests give a fixed one).</summary>
    public Func<DateTime> UtcNow
    {
        get => _utcNow;
        set => _utcNow = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>How many files were read and hashed since this cache was loaded (for the log and tests).</summary>
    public int FilesHashed { get; private set; }

    /// <summary>Bytes read to hash them.</summary>
    public long BytesHashed { get; private set; }

    public static FileHashCache Load(string? path)
    {
        var entries = new Dictionary<string, Entry>(PathComparer);
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            return new FileHashCache(path, entries);
        }

        try
        {
            var digests = new Dictionary<string, DigestEntry>(StringComparer.Ordinal);
            foreach (var line in File.ReadAllLines(path!))
            {
                if (line.StartsWith(DigestPrefix, StringComparison.Ordinal))
                {
                    if (DigestEntry.TryParse(line, out var key, out var digest))
                    {
                        digests[key] = digest;
                    }

                    continue;
                }

                var fields = line.Split(['\t'], 5);
                if (fields.Length == 5
                    && fields[0].Length == 32
                    && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
                    && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var modified)
                    && long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var hashedAt))
                {
                    entries[fields[4]] = new Entry(fields[0], size, modified, hashedAt);
                }
            }

            var cache = new FileHashCache(path, entries);
            foreach (var pair in digests)
            {
                cache._digests[pair.Key] = pair.Value;
            }

            return cache;
        }
        catch (IOException)
        {
            entries.Clear();
        }
        catch (UnauthorizedAccessException)
        {
            entries.Clear();
        }

        return new FileHashCache(path, entries);
    }

    /// <summary>
    /// A digest computed earlier (a database dataset's), when none of the files it depends on changed
    /// since: same existence, size and time, and none written within two seconds of the computation.
    /// </summary>
    public (long Examples, string Hash, string TimePath)? GetDigest(string key)
    {
        if (!_digests.TryGetValue(key, out var entry))
        {
            return null;
        }

        foreach (var dependency in entry.Dependencies)
        {
            var (size, modified) = Stat(dependency.Path);
            if (size != dependency.Size || modified != dependency.ModifiedTicks || (modified >= 0 && modified >= entry.ComputedAtTicks - RacyWindowTicks))
            {
                return null;
            }
        }

        return (entry.Examples, entry.Hash, entry.TimePath);
    }

    /// <summary>
    /// Remembers a digest with the state of the files it depends on (their stat now). <c>computedAtTicks</c>
    /// is when the computation started (UTC ticks): a file written after it is not trusted.
    /// </summary>
    public void RememberDigest(string key, long examples, string hash, string timePath, IEnumerable<string> dependencies, long computedAtTicks)
    {
        var stats = dependencies.Distinct(PathComparer).Select(d => (Path: d, Stat: Stat(d))).Select(d => new Dependency(d.Path, d.Stat.Size, d.Stat.ModifiedTicks)).ToList();
        _digests[key] = new DigestEntry(examples, hash, timePath, computedAtTicks, stats);
        _changed = true;
    }

    private static (long Size, long ModifiedTicks) Stat(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc.Ticks) : (-1, -1);
    }

    public static StringComparer PathComparer { get; } =
        Path.DirectorySeparatorChar == '\\' ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    /// <summary>The file's size and content hash; reads the file only when the cache cannot vouch for it.</summary>
    public (long Size, string Hash) Get(string fullPath)
    {
        var info = new FileInfo(fullPath);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"'{fullPath}' does not exist.", fullPath);
        }

        var modified = info.LastWriteTimeUtc.Ticks;
        if (_entries.TryGetValue(fullPath, out var entry)
            && entry.Size == info.Length
            && entry.ModifiedTicks == modified
            && modified < entry.HashedAtTicks - RacyWindowTicks)
        {
            return (entry.Size, entry.Hash);
        }

        var hashedAt = _utcNow().Ticks;
        var hash = ContentHash.OfFile(fullPath, out var size);
        FilesHashed++;
        BytesHashed += size;

        // The file may have changed while it was read: then its stat no longer matches and the
        // entry is not trusted next time.
        info.Refresh();
        _entries[fullPath] = new Entry(hash, size, info.Exists && info.Length == size ? info.LastWriteTimeUtc.Ticks : -1, hashedAt);
        _changed = true;
        return (size, hash);
    }

    /// <summary>Records a hash already known (a file this build just touched, with unchanged content).</summary>
    public void Remember(string fullPath, long size, string hash)
    {
        var info = new FileInfo(fullPath);
        if (info.Exists && info.Length == size)
        {
            _entries[fullPath] = new Entry(hash, size, info.LastWriteTimeUtc.Ticks, _utcNow().Ticks);
            _changed = true;
        }
    }

    /// <summary>Writes the cache when it changed (atomically; a failure only costs hashing next time).</summary>
    public void Save()
    {
        if (!_changed || string.IsNullOrEmpty(_path))
        {
            return;
        }

        var text = new StringBuilder(Header).Append('\n');
        foreach (var pair in _entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (pair.Key.IndexOf('\n') >= 0 || pair.Key.IndexOf('\t') >= 0 || !File.Exists(pair.Key))
            {
                continue;
            }

            text.Append(pair.Value.Hash).Append('\t')
                .Append(pair.Value.Size.ToString(CultureInfo.InvariantCulture)).Append('\t')
                .Append(pair.Value.ModifiedTicks.ToString(CultureInfo.InvariantCulture)).Append('\t')
                .Append(pair.Value.HashedAtTicks.ToString(CultureInfo.InvariantCulture)).Append('\t')
                .Append(pair.Key).Append('\n');
        }

        foreach (var pair in _digests.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            pair.Value.AppendTo(text, pair.Key);
        }

        try
        {
            AtomicWrite.Text(_path!, text.ToString());
            _changed = false;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private readonly struct Dependency(string path, long size, long modifiedTicks)
    {
        public string Path { get; } = path;

        public long Size { get; } = size;

        public long ModifiedTicks { get; } = modifiedTicks;
    }

    // digest TAB hash TAB examples TAB computed-at TAB time path TAB key, then per dependency TAB size US mtime US path (US: U+001F).
    private sealed class DigestEntry(long examples, string hash, string timePath, long computedAtTicks, IReadOnlyList<Dependency> dependencies)
    {
        public long Examples { get; } = examples;

        public string Hash { get; } = hash;

        public string TimePath { get; } = timePath;

        public long ComputedAtTicks { get; } = computedAtTicks;

        public IReadOnlyList<Dependency> Dependencies { get; } = dependencies;

        public static bool TryParse(string line, out string key, out DigestEntry entry)
        {
            key = "";
            entry = null!;
            var fields = line.Split('\t');
            if (fields.Length < 6
                || !long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var examples)
                || !long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var computedAt))
            {
                return false;
            }

            var dependencies = new List<Dependency>();
            foreach (var field in fields.Skip(6))
            {
                var parts = field.Split(['\u001f'], 3);
                if (parts.Length != 3
                    || !long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var size)
                    || !long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var modified))
                {
                    return false;
                }

                dependencies.Add(new Dependency(parts[2], size, modified));
            }

            key = fields[5];
            entry = new DigestEntry(examples, fields[1], fields[4], computedAt, dependencies);
            return true;
        }

        public void AppendTo(StringBuilder text, string key)
        {
            if (Unsafe(key) || Unsafe(TimePath) || Dependencies.Any(d => Unsafe(d.Path)))
            {
                return;
            }

            text.Append(DigestPrefix).Append(Hash).Append('\t')
                .Append(Examples.ToString(CultureInfo.InvariantCulture)).Append('\t')
                .Append(ComputedAtTicks.ToString(CultureInfo.InvariantCulture)).Append('\t')
                .Append(TimePath).Append('\t').Append(key);
            foreach (var dependency in Dependencies)
            {
                text.Append('\t').Append(dependency.Size.ToString(CultureInfo.InvariantCulture)).Append('\u001f')
                    .Append(dependency.ModifiedTicks.ToString(CultureInfo.InvariantCulture)).Append('\u001f').Append(dependency.Path);
            }

            text.Append('\n');
        }

        private static bool Unsafe(string value) => value.IndexOf('\t') >= 0 || value.IndexOf('\n') >= 0 || value.IndexOf('\r') >= 0;
    }

    private readonly struct Entry(string hash, long size, long modifiedTicks, long hashedAtTicks)
    {
        public string Hash { get; } = hash;

        public long Size { get; } = size;

        public long ModifiedTicks { get; } = modifiedTicks;

        public long HashedAtTicks { get; } = hashedAtTicks;
    }
}
