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

    private readonly string? _path;
    private readonly Dictionary<string, Entry> _entries;
    private bool _changed;

    private FileHashCache(string? path, Dictionary<string, Entry> entries)
    {
        _path = path;
        _entries = entries;
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
            foreach (var line in File.ReadAllLines(path!))
            {
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

        var hashedAt = DateTime.UtcNow.Ticks;
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
            _entries[fullPath] = new Entry(hash, size, info.LastWriteTimeUtc.Ticks, DateTime.UtcNow.Ticks);
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

    private readonly struct Entry(string hash, long size, long modifiedTicks, long hashedAtTicks)
    {
        public string Hash { get; } = hash;

        public long Size { get; } = size;

        public long ModifiedTicks { get; } = modifiedTicks;

        public long HashedAtTicks { get; } = hashedAtTicks;
    }
}
