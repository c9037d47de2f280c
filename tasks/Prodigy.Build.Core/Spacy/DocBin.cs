using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using Prodigy.Build.Core.Serialization;
using Prodigy.Build.Core.Text;

namespace Prodigy.Build.Core.Spacy;

/// <summary>
/// spaCy 3's DocBin (<c>.spacy</c>) format: a zlib-compressed msgpack map (version, attrs, tokens, spaces,
/// lengths, strings, cats, flags, span_groups[, user_data]). The writer reproduces spaCy 3.5.4's payload byte
/// for byte; the reader accepts what spaCy writes (also the older span group forms and missing keys).
/// </summary>
public static partial class DocBin
{
    internal const int Orth = 65;
    internal const int SpacyAttr = 81;
    internal const int Lower = 66;
    internal const int Norm = 67;
    internal const int Prefix = 69;
    internal const int Suffix = 70;
    internal const int LengthAttr = 71;
    internal const int Lemma = 73;
    internal const int Pos = 74;
    internal const int Tag = 75;
    internal const int Dep = 76;
    internal const int EntIob = 77;
    internal const int EntType = 78;
    internal const int Head = 79;
    internal const int SentStart = 80;
    internal const int EntKbId = 452;
    internal const int Morph = 453;
    internal const int EntId = 454;
    internal const int Idx = 455;
    internal const int IsAlpha = 1;
    internal const int IsAscii = 2;
    internal const int IsSpace = 6;

    /// <summary>The symbol id of <c>_</c>: the MORPH value of a morph set to <c>""</c> or <c>"_"</c>.</summary>
    internal const ulong EmptyMorph = 456;

    // UPOS tags: symbols ADJ (84) .. SPACE (103).
    private const int FirstPos = 84;
    private const int LastPos = 103;

    private const int FlushThreshold = 1 << 20;

    /// <summary>The uncompressed payload spaCy's <c>DocBin.to_bytes</c> would compress, for these docs.</summary>
    public static byte[] WritePayload(IReadOnlyList<SpacyDoc> docs, DocBinOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(docs);
        options ??= DocBinOptions.Default;
        long tokens = 0;
        foreach (var doc in docs)
        {
            tokens += doc?.Length ?? 0;
        }

        // The token rows dominate; start the buffer near the final size to avoid regrowing it.
        var estimate = tokens * ((options.ResolveAttributeIds().Length * 8) + 1) + (docs.Count * 64L) + 4096;
        using var stream = new MemoryStream((int)Math.Min(estimate, Array.MaxLength));
        WritePayload(stream, docs, options);
        return stream.Length == stream.Capacity ? stream.GetBuffer() : stream.ToArray();
    }

    /// <summary>Streams the uncompressed payload into <paramref name="output"/>.</summary>
    public static void WritePayload(Stream output, IReadOnlyList<SpacyDoc> docs, DocBinOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(docs);
        new PayloadWriter(output, options ?? DocBinOptions.Default).Write(docs);
    }

    /// <summary>
    /// Writes a <c>.spacy</c> file (zlib-compressed payload) atomically: into a temporary file in the same
    /// folder, then moved over <paramref name="path"/>. When anything fails the earlier file is left as it was.
    /// </summary>
    public static void Write(string path, IReadOnlyList<SpacyDoc> docs, DocBinOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(docs);
        options ??= DocBinOptions.Default;
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no folder.", nameof(path));
        var temp = Path.Combine(folder, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..12] + ".tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                using (var zlib = new ZLibStream(file, new ZLibCompressionOptions { CompressionLevel = options.CompressionLevel }, leaveOpen: true))
                {
                    WritePayload(zlib, docs, options);
                }

                file.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
                // Best effort: the temporary file is hidden and named as such.
            }
            catch (UnauthorizedAccessException)
            {
            }

            throw;
        }
    }

    /// <summary>zlib-compresses a payload as a <c>.spacy</c> file's bytes.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> payload, int level = 6)
    {
        using var stream = new MemoryStream();
        using (var zlib = new ZLibStream(stream, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true))
        {
            zlib.Write(payload);
        }

        return stream.ToArray();
    }

    /// <summary>Decompresses a <c>.spacy</c> file's bytes into the msgpack payload.</summary>
    public static byte[] Decompress(byte[] spacyFile)
    {
        using var input = new MemoryStream(spacyFile, writable: false);
        using var zlib = new ZLibStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream(spacyFile.Length * 4);
        zlib.CopyTo(output);
        return output.ToArray();
    }

    private sealed class PayloadWriter
    {
        private readonly Stream _stream;
        private readonly DocBinOptions _options;
        private readonly int[] _attrs;
        private readonly MsgPackWriter _out = new(FlushThreshold + 4096);
        private readonly SpacyStrings _strings = new();
        private readonly Dictionary<string, string> _morphs = new(StringComparer.Ordinal);
        private readonly MsgPackWriter _groups = new(4096);
        private readonly MsgPackWriter _scratch = new(1024);
        private ulong[] _rows = new ulong[1024];
        private int[] _charOffsets = new int[256];
        private int[] _sentStarts = new int[256];

        public PayloadWriter(Stream stream, DocBinOptions options)
        {
            _stream = stream;
            _options = options;
            _attrs = options.ResolveAttributeIds();
            foreach (var attr in _attrs)
            {
                if (!IsSupported(attr))
                {
                    SpacyStrings.TryGetAttributeName(attr, out var name);
                    throw new NotSupportedException($"DocBin: writing the attribute {name ?? attr.ToString(CultureInfo.InvariantCulture)} is not supported.");
                }
            }
        }

        private static bool IsSupported(int attr) => attr is Orth or Lower or Norm or Prefix or Suffix or LengthAttr or Lemma or Pos
            or Tag or Dep or EntIob or EntType or Head or SentStart or EntKbId or Morph or EntId or Idx or IsAlpha or IsAscii or IsSpace;

        private void FlushIfFull()
        {
            if (_out.WrittenCount >= FlushThreshold)
            {
                Flush();
            }
        }

        private void Flush()
        {
            _stream.Write(_out.WrittenSpan);
            _out.Reset();
        }

        public void Write(IReadOnlyList<SpacyDoc> docs)
        {
            long totalTokens = 0;
            for (var d = 0; d < docs.Count; d++)
            {
                var doc = docs[d] ?? throw new ArgumentException($"Doc {d} is null.", nameof(docs));
                Validate(doc, d);
                totalTokens += doc.Length;
            }

            var tokenBytes = totalTokens * _attrs.Length * 8;
            if (tokenBytes > uint.MaxValue)
            {
                throw new ArgumentException($"{totalTokens} tokens are more than one DocBin can hold (4 GiB of token rows); split the docs.");
            }

            var w = _out;
            w.WriteMapHeader(_options.StoreUserData ? 10 : 9);
            w.WriteString("version");
            w.WriteString("0.1");
            w.WriteString("attrs");
            w.WriteArrayHeader(_attrs.Length);
            foreach (var attr in _attrs)
            {
                w.WriteInt64(attr);
            }

            w.WriteString("tokens");
            w.WriteBinaryHeader(tokenBytes);

            var spaces = new byte[totalTokens];
            var lengths = new byte[docs.Count * 4];
            var groupEnds = new int[docs.Count];
            var spaceAt = 0;
            var sawAnything = false;
            for (var d = 0; d < docs.Count; d++)
            {
                var doc = docs[d];
                WriteRows(doc);
                BinaryPrimitives.WriteInt32LittleEndian(lengths.AsSpan(d * 4), doc.Length);
                if (doc.Spaces is null)
                {
                    spaces.AsSpan(spaceAt, doc.Length).Fill(1);
                }
                else
                {
                    for (var i = 0; i < doc.Length; i++)
                    {
                        spaces[spaceAt + i] = doc.Spaces[i] ? (byte)1 : (byte)0;
                    }
                }

                spaceAt += doc.Length;
                sawAnything |= doc.Length > 0;
                sawAnything |= WriteSpanGroups(doc);
                groupEnds[d] = _groups.WrittenCount;
                FlushIfFull();
            }

            if (sawAnything)
            {
                // Every token (and span) contributes "" (an unset tag, lemma, ...) to the strings.
                _strings.Add("");
            }

            w.WriteString("spaces");
            w.WriteBinary(spaces);
            w.WriteString("lengths");
            w.WriteBinary(lengths);
            FlushIfFull();

            w.WriteString("strings");
            var sorted = _strings.SortedAdded();
            w.WriteArrayHeader(sorted.Length);
            foreach (var s in sorted)
            {
                w.WriteString(s);
                FlushIfFull();
            }

            w.WriteString("cats");
            w.WriteArrayHeader(docs.Count);
            foreach (var doc in docs)
            {
                w.WriteMapHeader(doc.Cats.Count);
                foreach (var (label, value) in doc.Cats)
                {
                    w.WriteString(label);
                    w.WriteValue(value);
                }

                FlushIfFull();
            }

            w.WriteString("flags");
            w.WriteArrayHeader(docs.Count);
            foreach (var doc in docs)
            {
                w.WriteMapHeader(1);
                w.WriteString("has_unknown_spaces");
                w.WriteBoolean(doc.Spaces is null);
                FlushIfFull();
            }

            w.WriteString("span_groups");
            w.WriteArrayHeader(docs.Count);
            var groupBytes = _groups.WrittenSpan;
            for (int d = 0, start = 0; d < docs.Count; d++)
            {
                w.WriteBinary(groupBytes[start..groupEnds[d]]);
                start = groupEnds[d];
                FlushIfFull();
            }

            if (_options.StoreUserData)
            {
                w.WriteString("user_data");
                w.WriteArrayHeader(docs.Count);
                foreach (var doc in docs)
                {
                    _scratch.Reset();
                    _scratch.WriteMapHeader(doc.UserData.Count);
                    foreach (var (key, value) in doc.UserData)
                    {
                        _scratch.WriteValue(key);
                        _scratch.WriteValue(value);
                    }

                    w.WriteBinary(_scratch.WrittenSpan);
                    FlushIfFull();
                }
            }

            Flush();
        }

        private static void Validate(SpacyDoc doc, int d)
        {
            var n = doc.Length;
            CheckLength(doc.Entities?.Length, "entities");
            CheckLength(doc.Tags?.Length, "tags");
            CheckLength(doc.Pos?.Length, "pos");
            CheckLength(doc.Morphs?.Length, "morphs");
            CheckLength(doc.Lemmas?.Length, "lemmas");
            CheckLength(doc.Deps?.Length, "deps");
            CheckLength(doc.Heads?.Length, "heads");
            CheckLength(doc.SentStarts?.Length, "sent_starts");
            for (var i = 0; i < n; i++)
            {
                if (doc.Words[i] is null || doc.Norms[i] is null)
                {
                    throw new ArgumentException($"Doc {d}, token {i}: the word or norm is null.");
                }
            }

            if (doc.Pos is { } pos)
            {
                for (var i = 0; i < n; i++)
                {
                    if (pos[i] is { Length: > 0 } p && !(SpacyStrings.TryGetSymbol(p, out var id) && id is >= FirstPos and <= LastPos))
                    {
                        throw new ArgumentException($"Doc {d}, token {i}: '{p}' is not a universal POS tag.");
                    }
                }
            }

            if (doc.Heads is { } heads)
            {
                for (var i = 0; i < n; i++)
                {
                    if ((uint)heads[i] >= (uint)n)
                    {
                        throw new ArgumentException($"Doc {d}, token {i}: head {heads[i]} is outside the doc ({n} tokens).");
                    }
                }
            }

            if (doc.SentStarts is { } sentStarts)
            {
                for (var i = 0; i < n; i++)
                {
                    if (sentStarts[i] is < -1 or > 1)
                    {
                        throw new ArgumentException($"Doc {d}, token {i}: sent_start {sentStarts[i]} is not 1, -1 or 0.");
                    }
                }
            }

            foreach (var (key, group) in doc.SpanGroups)
            {
                if (key is null || group is null)
                {
                    throw new ArgumentException($"Doc {d}: a span group or its key is null.");
                }

                foreach (var span in group.Spans)
                {
                    if (span.Start < 0 || span.Start > span.End || span.End > n)
                    {
                        throw new ArgumentException($"Doc {d}, span group '{key}': span [{span.Start}, {span.End}) is outside the doc ({n} tokens).");
                    }
                }
            }

            void CheckLength(int? length, string layer)
            {
                if (length is { } l && l != n)
                {
                    throw new ArgumentException($"Doc {d}: {l} {layer} for {n} tokens.");
                }
            }
        }

        private void WriteRows(SpacyDoc doc)
        {
            var n = doc.Length;
            if (n == 0)
            {
                return;
            }

            var columns = _attrs.Length;
            if (_rows.Length < n * columns)
            {
                _rows = new ulong[Math.Max(n * columns, _rows.Length * 2)];
            }

            var rows = _rows.AsSpan(0, n * columns);
            var words = doc.Words;
            var norms = doc.Norms;
            var entities = doc.Entities;
            var tags = doc.Tags;
            var lemmas = doc.Lemmas;
            var deps = doc.Deps;
            var morphs = doc.Morphs;
            var pos = doc.Pos;
            var heads = doc.Heads;
            var sentStarts = SentStartsOf(doc);
            var needOffsets = Array.IndexOf(_attrs, Idx) >= 0;
            if (needOffsets)
            {
                ComputeCharOffsets(doc);
            }

            for (var i = 0; i < n; i++)
            {
                // The strings spaCy's DocBin.add collects for every token, whatever the attrs.
                var word = words[i];
                var orth = _strings.Add(word);
                var norm = _strings.Add(norms[i]);
                var tag = tags is null ? 0 : _strings.Add(tags[i] ?? "");
                var lemma = lemmas is null ? 0 : _strings.Add(lemmas[i] ?? "");
                var dep = deps is null ? 0 : _strings.Add(deps[i] ?? "");
                var entity = entities is null ? EntityTag.Missing : entities[i];
                var entType = entity.Label.Length == 0 ? 0 : _strings.Add(entity.Label);
                var entKb = entity.KbId.Length == 0 ? 0 : _strings.Add(entity.KbId);
                var entId = entity.Id.Length == 0 ? 0 : _strings.Add(entity.Id);
                var morph = morphs?[i] is { } m ? MorphId(m) : 0;

                var row = rows.Slice(i * columns, columns);
                for (var c = 0; c < columns; c++)
                {
                    row[c] = _attrs[c] switch
                    {
                        Orth => orth,
                        Norm => norm,
                        Lemma => lemma,
                        Pos => pos?[i] is { Length: > 0 } p ? (ulong)PosId(p) : 0,
                        Tag => tag,
                        Dep => dep,
                        EntIob => (ulong)entity.Iob,
                        EntType => entType,
                        Head => heads is null ? 0 : unchecked((ulong)(long)(heads[i] - i)),
                        SentStart => unchecked((ulong)(long)sentStarts[i]),
                        EntKbId => entKb,
                        Morph => morph,
                        EntId => entId,
                        Lower => _strings.Lookup(PythonText.Lower(word)),
                        Prefix => _strings.Lookup(PrefixOf(word)),
                        Suffix => _strings.Lookup(SuffixOf(word)),
                        LengthAttr => (ulong)PythonText.CodePointCount(word),
                        Idx => (ulong)_charOffsets[i],
                        IsAlpha => IsAlphaString(word) ? 1UL : 0UL,
                        IsAscii => Ascii.IsValid(word) ? 1UL : 0UL,
                        IsSpace => IsSpaceString(word) ? 1UL : 0UL,
                        _ => 0,
                    };
                }
            }

            if (BitConverter.IsLittleEndian)
            {
                _out.WriteRaw(MemoryMarshal.AsBytes(rows));
            }
            else
            {
                Span<byte> eight = stackalloc byte[8];
                foreach (var value in rows)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(eight, value);
                    _out.WriteRaw(eight);
                }
            }
        }

        private static int PosId(string p) => SpacyStrings.TryGetSymbol(p, out var id) ? id : 0;

        private ulong MorphId(string morph)
        {
            if (morph.Length == 0 || morph == "_")
            {
                _strings.Add("");
                return EmptyMorph;
            }

            if (!_morphs.TryGetValue(morph, out var canonical))
            {
                canonical = CanonicalMorph(morph);
                _morphs[morph] = canonical;
            }

            return _strings.Add(canonical);
        }

        /// <summary>SENT_START values: explicit, derived from a dependency parse, or spaCy's default (1 on token 0).</summary>
        private ReadOnlySpan<int> SentStartsOf(SpacyDoc doc)
        {
            var n = doc.Length;
            if (doc.SentStarts is { } given)
            {
                return given;
            }

            if (_sentStarts.Length < n)
            {
                _sentStarts = new int[Math.Max(n, _sentStarts.Length * 2)];
            }

            var result = _sentStarts.AsSpan(0, n);
            if (doc.Heads is { } heads && doc.Deps is { } deps && deps.Any(dep => !string.IsNullOrEmpty(dep)))
            {
                DeriveSentStarts(heads, result);
            }
            else
            {
                result.Clear();
                result[0] = 1;
            }

            return result;
        }

        private void ComputeCharOffsets(SpacyDoc doc)
        {
            var n = doc.Length;
            if (_charOffsets.Length < n + 1)
            {
                _charOffsets = new int[Math.Max(n + 1, _charOffsets.Length * 2)];
            }

            var offset = 0;
            for (var i = 0; i < n; i++)
            {
                _charOffsets[i] = offset;
                offset += PythonText.CodePointCount(doc.Words[i]) + (doc.Spaces is null || doc.Spaces[i] ? 1 : 0);
            }

            _charOffsets[n] = offset;
        }

        /// <summary>Serializes doc.spans into <see cref="_groups"/>; true when any span was written.</summary>
        private bool WriteSpanGroups(SpacyDoc doc)
        {
            var g = _groups;
            if (doc.SpanGroups.Count == 0)
            {
                g.WriteArrayHeader(0);
                return false;
            }

            var anySpan = doc.SpanGroups.Exists(pair => pair.Value.Spans.Count > 0);
            if (anySpan)
            {
                ComputeCharOffsets(doc);
            }

            // spaCy: msg.setdefault(group.to_bytes(), []).append(key), so groups with equal bytes share one entry.
            var entries = new List<(byte[] Bytes, List<string> Keys)>(doc.SpanGroups.Count);
            var serialized = new Dictionary<SpacySpanGroup, byte[]>(ReferenceEqualityComparer.Instance);
            foreach (var (key, group) in doc.SpanGroups)
            {
                if (!serialized.TryGetValue(group, out var bytes))
                {
                    bytes = SerializeGroup(doc, group);
                    serialized[group] = bytes;
                }

                var entry = entries.FindIndex(e => e.Bytes.AsSpan().SequenceEqual(bytes));
                if (entry < 0)
                {
                    entries.Add((bytes, [key]));
                }
                else
                {
                    entries[entry].Keys.Add(key);
                }
            }

            g.WriteMapHeader(entries.Count);
            foreach (var (bytes, keys) in entries)
            {
                g.WriteBinary(bytes);
                g.WriteArrayHeader(keys.Count);
                foreach (var key in keys)
                {
                    g.WriteString(key);
                }
            }

            return anySpan;
        }

        private byte[] SerializeGroup(SpacyDoc doc, SpacySpanGroup group)
        {
            var s = _scratch;
            s.Reset();
            s.WriteMapHeader(3);
            s.WriteString("name");
            s.WriteString(group.Name);
            s.WriteString("attrs");
            s.WriteValue(group.Attrs);
            s.WriteString("spans");
            s.WriteArrayHeader(group.Spans.Count);
            Span<byte> packed = stackalloc byte[40];
            var n = doc.Length;
            foreach (var span in group.Spans)
            {
                var label = _strings.Add(span.Label);
                var kbId = _strings.Add(span.KbId);
                var id = _strings.Add(span.Id);
                var startChar = span.Start < n ? _charOffsets[span.Start] : _charOffsets[n];
                var endChar = span.End > span.Start
                    ? _charOffsets[span.End - 1] + PythonText.CodePointCount(doc.Words[span.End - 1])
                    : startChar;
                BinaryPrimitives.WriteUInt64BigEndian(packed, id);
                BinaryPrimitives.WriteUInt64BigEndian(packed[8..], kbId);
                BinaryPrimitives.WriteUInt64BigEndian(packed[16..], label);
                BinaryPrimitives.WriteInt32BigEndian(packed[24..], span.Start);
                BinaryPrimitives.WriteInt32BigEndian(packed[28..], span.End);
                BinaryPrimitives.WriteInt32BigEndian(packed[32..], startChar);
                BinaryPrimitives.WriteInt32BigEndian(packed[36..], endChar);
                s.WriteBinary(packed);
            }

            return s.ToArray();
        }
    }

    /// <summary>
    /// SENT_START from a dependency parse, as spaCy sets it: -1 everywhere, 1 on the leftmost token of
    /// every tree (the left edge of each root).
    /// </summary>
    internal static void DeriveSentStarts(IReadOnlyList<int> heads, Span<int> result)
    {
        var n = heads.Count;
        var roots = new int[n];
        Array.Fill(roots, -1);
        var path = new List<int>();
        for (var i = 0; i < n; i++)
        {
            var t = i;
            path.Clear();
            while (roots[t] < 0 && heads[t] != t)
            {
                path.Add(t);
                if (path.Count > n)
                {
                    throw new ArgumentException($"The heads form a cycle through token {i}.");
                }

                t = heads[t];
            }

            var root = roots[t] >= 0 ? roots[t] : t;
            roots[t] = root;
            foreach (var p in path)
            {
                roots[p] = root;
            }
        }

        result.Fill(-1);
        var leftEdge = new Dictionary<int, int>();
        for (var i = n - 1; i >= 0; i--)
        {
            leftEdge[roots[i]] = i;
        }

        foreach (var left in leftEdge.Values)
        {
            result[left] = 1;
        }
    }

    /// <summary>
    /// spaCy's canonical FEATS string: features sorted by name, the values of a feature sorted, <c>|</c> and
    /// <c>,</c> as separators (code point order, as Python's sorted).
    /// </summary>
    public static string CanonicalMorph(string feats)
    {
        if (feats.Length == 0 || feats == "_")
        {
            return "";
        }

        var fields = new SortedDictionary<string, string>(CodePointComparer.Instance);
        foreach (var part in feats.Split('|'))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0 || eq == part.Length - 1)
            {
                throw new ArgumentException($"'{feats}' is not a FEATS string (Field=Value|...).", nameof(feats));
            }

            var values = part[(eq + 1)..].Split(',');
            Array.Sort(values, CodePointComparer.Instance);
            fields[part[..eq]] = string.Join(',', values);
        }

        return string.Join('|', fields.Select(f => f.Key + "=" + f.Value));
    }

    private static string PrefixOf(string word) => LexicalAttributes.Prefix(word);

    private static string SuffixOf(string word) => LexicalAttributes.Suffix(word);

    private static bool IsAlphaString(string word)
    {
        if (word.Length == 0)
        {
            return false;
        }

        foreach (var rune in word.EnumerateRunes())
        {
            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.UppercaseLetter:
                case UnicodeCategory.LowercaseLetter:
                case UnicodeCategory.TitlecaseLetter:
                case UnicodeCategory.ModifierLetter:
                case UnicodeCategory.OtherLetter:
                    continue;
                default:
                    return false;
            }
        }

        return true;
    }

    private static bool IsSpaceString(string word)
    {
        if (word.Length == 0)
        {
            return false;
        }

        for (var i = 0; i < word.Length; i++)
        {
            var cp = PythonText.CodePointAt(word, i, out var length);
            i += length - 1;
            if (!PythonText.IsSpace(cp))
            {
                return false;
            }
        }

        return true;
    }
}
