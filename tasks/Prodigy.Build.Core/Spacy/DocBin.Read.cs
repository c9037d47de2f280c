using System.Buffers.Binary;
using Prodigy.Build.Core.Serialization;
using Prodigy.Build.Core.Text;

namespace Prodigy.Build.Core.Spacy;

public static partial class DocBin
{
    /// <summary>Reads a <c>.spacy</c> file (zlib-compressed payload).</summary>
    public static IReadOnlyList<SpacyDoc> Read(string path) => Read(path, out _);

    /// <summary>Reads a <c>.spacy</c> file, and the options it was written with (attrs, store_user_data).</summary>
    public static IReadOnlyList<SpacyDoc> Read(string path, out DocBinOptions options) =>
        ReadPayload(Decompress(File.ReadAllBytes(path)), out options);

    /// <summary>Decodes an uncompressed DocBin payload.</summary>
    public static IReadOnlyList<SpacyDoc> ReadPayload(byte[] payload) => ReadPayload(payload, out _);

    /// <summary>
    /// Decodes an uncompressed DocBin payload into docs, as spaCy's <c>DocBin.get_docs</c> would rebuild them.
    /// Missing <c>cats</c>, <c>flags</c> and <c>span_groups</c> mean empty; span groups may be the current map
    /// form, the older list of group bytes, or <c>b""</c>. When the NORM column is not stored, a token's norm is
    /// Python's <c>str.lower()</c> of its text (spaCy would also apply the language's lexeme norm exceptions).
    /// </summary>
    /// <exception cref="InvalidDataException">The payload is not a DocBin spaCy can read.</exception>
    public static IReadOnlyList<SpacyDoc> ReadPayload(byte[] payload, out DocBinOptions options)
    {
        ArgumentNullException.ThrowIfNull(payload);
        object? root;
        try
        {
            root = MsgPackReader.Decode(payload);
        }
        catch (MsgPackException e)
        {
            throw new InvalidDataException("DocBin: " + e.Message, e);
        }

        var map = AsMap(root, "the payload");
        var attrs = AsList(Required(map, "attrs"), "attrs").Select(a => checked((int)AsInteger(a, "an attr"))).ToArray();
        var tokens = AsBytes(Required(map, "tokens"), "tokens");
        var spaces = AsBytes(Required(map, "spaces"), "spaces");
        var lengthBytes = AsBytes(Required(map, "lengths"), "lengths");
        var stringList = AsList(Required(map, "strings"), "strings");
        var cats = Optional(map, "cats") is { } c ? AsList(c, "cats") : null;
        var flags = Optional(map, "flags") is { } f ? AsList(f, "flags") : null;
        var spanGroups = Optional(map, "span_groups") is { } sg ? AsList(sg, "span_groups") : null;
        var userData = Optional(map, "user_data") is { } ud ? AsList(ud, "user_data") : null;

        var names = new List<string>(attrs.Length);
        foreach (var attr in attrs)
        {
            if (attr != Orth && SpacyStrings.TryGetAttributeName(attr, out var name))
            {
                names.Add(name);
            }
        }

        options = new DocBinOptions { Attrs = names, StoreUserData = userData is not null };
        var orthColumn = Array.IndexOf(attrs, Orth);
        if (orthColumn < 0)
        {
            throw new InvalidDataException("DocBin: the attrs have no ORTH column.");
        }

        if (lengthBytes.Length % 4 != 0)
        {
            throw new InvalidDataException("DocBin: 'lengths' is not a whole number of int32 values.");
        }

        var docCount = lengthBytes.Length / 4;
        var columns = attrs.Length;
        long totalTokens = 0;
        for (var d = 0; d < docCount; d++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(lengthBytes.AsSpan(d * 4));
            if (length < 0)
            {
                throw new InvalidDataException($"DocBin: doc {d} has a negative length.");
            }

            totalTokens += length;
        }

        if (totalTokens * columns * 8 != tokens.Length || totalTokens != spaces.Length)
        {
            throw new InvalidDataException($"DocBin: {tokens.Length} token bytes and {spaces.Length} spaces do not match {totalTokens} tokens of {columns} columns.");
        }

        var strings = new Dictionary<ulong, string>(stringList.Count);
        foreach (var item in stringList)
        {
            var s = item as string ?? throw new InvalidDataException("DocBin: 'strings' holds a non-string.");
            strings[SpacyStrings.GetId(s)] = s;
        }

        string Str(ulong id)
        {
            if (id == 0)
            {
                return "";
            }

            if (strings.TryGetValue(id, out var s))
            {
                return s;
            }

            if (SpacyStrings.TryGetSymbolName(id, out var symbol))
            {
                return symbol;
            }

            throw new InvalidDataException($"DocBin: string id {id} is not in the strings table.");
        }

        int Column(int attr) => Array.IndexOf(attrs, attr);
        int norm = Column(Norm), lemma = Column(Lemma), pos = Column(Pos), tag = Column(Tag), dep = Column(Dep);
        int entIob = Column(EntIob), entType = Column(EntType), head = Column(Head), sentStart = Column(SentStart);
        int entKb = Column(EntKbId), morph = Column(Morph), entId = Column(EntId);

        var docs = new List<SpacyDoc>(docCount);
        var at = 0;
        for (var d = 0; d < docCount; d++)
        {
            var n = BinaryPrimitives.ReadInt32LittleEndian(lengthBytes.AsSpan(d * 4));
            ulong Value(int token, int column) =>
                BinaryPrimitives.ReadUInt64LittleEndian(tokens.AsSpan((int)(((long)(at + token) * columns + column) * 8), 8));

            var words = new string[n];
            for (var i = 0; i < n; i++)
            {
                words[i] = Str(Value(i, orthColumn));
            }

            var unknownSpaces = flags is not null && d < flags.Count && Optional(AsMap(flags[d], "a flags entry"), "has_unknown_spaces") is true;
            bool[]? docSpaces = null;
            if (!unknownSpaces)
            {
                docSpaces = new bool[n];
                for (var i = 0; i < n; i++)
                {
                    docSpaces[i] = spaces[at + i] != 0;
                }
            }

            var norms = new string[n];
            for (var i = 0; i < n; i++)
            {
                norms[i] = norm >= 0 ? Str(Value(i, norm)) : PythonText.Lower(words[i]);
            }

            var doc = new SpacyDoc(words, docSpaces, norms);
            string[]? StringLayer(int column)
            {
                if (column < 0)
                {
                    return null;
                }

                var any = false;
                var layer = new string[n];
                for (var i = 0; i < n; i++)
                {
                    var id = Value(i, column);
                    any |= id != 0;
                    layer[i] = Str(id);
                }

                return any ? layer : null;
            }

            doc.Tags = StringLayer(tag);
            doc.Lemmas = StringLayer(lemma);
            doc.Deps = StringLayer(dep);
            doc.Pos = StringLayer(pos);
            if (morph >= 0)
            {
                var any = false;
                var morphs = new string?[n];
                for (var i = 0; i < n; i++)
                {
                    var id = Value(i, morph);
                    any |= id != 0;
                    morphs[i] = id switch
                    {
                        0 => null,
                        EmptyMorph => "",
                        _ => Str(id),
                    };
                }

                doc.Morphs = any ? morphs : null;
            }

            if (entIob >= 0 || entType >= 0 || entKb >= 0 || entId >= 0)
            {
                var any = false;
                var entities = new EntityTag[n];
                for (var i = 0; i < n; i++)
                {
                    var iob = entIob >= 0 ? Value(i, entIob) : 0;
                    if (iob > 3)
                    {
                        throw new InvalidDataException($"DocBin: doc {d}, token {i}: ENT_IOB {iob}.");
                    }

                    var tagValue = new EntityTag(
                        (EntityIob)iob,
                        entType >= 0 ? Str(Value(i, entType)) : "",
                        entKb >= 0 ? Str(Value(i, entKb)) : "",
                        entId >= 0 ? Str(Value(i, entId)) : "");
                    any |= tagValue != EntityTag.Missing;
                    entities[i] = tagValue;
                }

                doc.Entities = any ? entities : null;
            }

            if (head >= 0)
            {
                var any = doc.Deps is not null;
                var heads = new int[n];
                for (var i = 0; i < n; i++)
                {
                    var offset = unchecked((long)Value(i, head));
                    any |= offset != 0;
                    var absolute = i + offset;
                    if (absolute < 0 || absolute >= n)
                    {
                        throw new InvalidDataException($"DocBin: doc {d}, token {i}: head offset {offset} is outside the doc.");
                    }

                    heads[i] = (int)absolute;
                }

                doc.Heads = any ? heads : null;
            }

            if (sentStart >= 0 && n > 0)
            {
                var values = new int[n];
                var isDefault = true;
                for (var i = 0; i < n; i++)
                {
                    var value = unchecked((long)Value(i, sentStart));
                    if (value is < -1 or > 1)
                    {
                        throw new InvalidDataException($"DocBin: doc {d}, token {i}: SENT_START {value}.");
                    }

                    values[i] = (int)value;
                    isDefault &= value == (i == 0 ? 1 : 0);
                }

                doc.SentStarts = isDefault ? null : values;
            }

            if (cats is not null && d < cats.Count)
            {
                foreach (var (key, value) in AsMap(cats[d], "a cats entry"))
                {
                    doc.Cats.Add(new KeyValuePair<string, object>(
                        key as string ?? throw new InvalidDataException("DocBin: a cats label is not a string."),
                        value ?? throw new InvalidDataException("DocBin: a cats value is nil.")));
                }
            }

            if (spanGroups is not null && d < spanGroups.Count)
            {
                ReadSpanGroups(doc, AsBytes(spanGroups[d], "a span_groups entry"), Str);
            }

            if (userData is not null && d < userData.Count)
            {
                object? decoded;
                try
                {
                    decoded = MsgPackReader.Decode(AsBytes(userData[d], "a user_data entry"));
                }
                catch (MsgPackException e)
                {
                    throw new InvalidDataException("DocBin: user_data: " + e.Message, e);
                }

                foreach (var (key, value) in AsMap(decoded, "user_data"))
                {
                    doc.UserData.Add(new KeyValuePair<object, object?>(key is List<object?> tuple ? tuple.ToArray() : key ?? throw new InvalidDataException("DocBin: a nil user_data key."), value));
                }
            }

            docs.Add(doc);
            at += n;
        }

        return docs;
    }

    private static void ReadSpanGroups(SpacyDoc doc, byte[] blob, Func<ulong, string> str)
    {
        if (blob.Length == 0 || (blob.Length == 1 && blob[0] == 0x90))
        {
            return;
        }

        object? decoded;
        try
        {
            decoded = MsgPackReader.Decode(blob);
        }
        catch (MsgPackException e)
        {
            throw new InvalidDataException("DocBin: span_groups: " + e.Message, e);
        }

        if (decoded is List<object?> list)
        {
            // The older form: a list of group bytes, each stored under its name.
            foreach (var item in list)
            {
                var group = ReadGroup(doc, AsBytes(item, "a span group"), str);
                Set(doc, group.Name, group);
            }

            return;
        }

        foreach (var (groupBytes, keys) in AsMap(decoded, "span_groups"))
        {
            var group = ReadGroup(doc, AsBytes(groupBytes, "a span group"), str);
            var keyList = AsList(keys, "span group keys");
            if (keyList.Count == 0)
            {
                throw new InvalidDataException("DocBin: a span group has no keys.");
            }

            foreach (var key in keyList)
            {
                Set(doc, key as string ?? throw new InvalidDataException("DocBin: a span group key is not a string."), group);
            }
        }

        static void Set(SpacyDoc doc, string key, SpacySpanGroup group)
        {
            var index = doc.SpanGroups.FindIndex(pair => pair.Key == key);
            var pair = new KeyValuePair<string, SpacySpanGroup>(key, group);
            if (index >= 0)
            {
                doc.SpanGroups[index] = pair;
            }
            else
            {
                doc.SpanGroups.Add(pair);
            }
        }
    }

    private static SpacySpanGroup ReadGroup(SpacyDoc doc, byte[] bytes, Func<ulong, string> str)
    {
        object? decoded;
        try
        {
            decoded = MsgPackReader.Decode(bytes);
        }
        catch (MsgPackException e)
        {
            throw new InvalidDataException("DocBin: a span group: " + e.Message, e);
        }

        var map = AsMap(decoded, "a span group");
        var group = new SpacySpanGroup(Optional(map, "name") as string ?? "");
        if (Optional(map, "attrs") is { } attrs)
        {
            foreach (var (key, value) in AsMap(attrs, "span group attrs"))
            {
                group.Attrs.Add(new KeyValuePair<string, object?>(key as string ?? throw new InvalidDataException("DocBin: a span group attrs key is not a string."), value));
            }
        }

        foreach (var item in Optional(map, "spans") is { } spans ? AsList(spans, "spans") : [])
        {
            var packed = AsBytes(item, "a span");
            if (packed.Length != 40)
            {
                throw new InvalidDataException($"DocBin: a span is {packed.Length} bytes, not 40.");
            }

            var id = BinaryPrimitives.ReadUInt64BigEndian(packed);
            var kbId = BinaryPrimitives.ReadUInt64BigEndian(packed.AsSpan(8));
            var label = BinaryPrimitives.ReadUInt64BigEndian(packed.AsSpan(16));
            var start = BinaryPrimitives.ReadInt32BigEndian(packed.AsSpan(24));
            var end = BinaryPrimitives.ReadInt32BigEndian(packed.AsSpan(28));
            if (start < 0 || start > end || end > doc.Length)
            {
                throw new InvalidDataException($"DocBin: span [{start}, {end}) is outside the doc ({doc.Length} tokens).");
            }

            group.Spans.Add(new SpacySpan(start, end, str(label), str(kbId), str(id)));
        }

        return group;
    }

    private static List<KeyValuePair<object?, object?>> AsMap(object? value, string what) =>
        value as List<KeyValuePair<object?, object?>> ?? throw new InvalidDataException($"DocBin: {what} is not a map.");

    private static List<object?> AsList(object? value, string what) =>
        value as List<object?> ?? throw new InvalidDataException($"DocBin: {what} is not an array.");

    private static byte[] AsBytes(object? value, string what) =>
        value as byte[] ?? throw new InvalidDataException($"DocBin: {what} is not bytes.");

    private static long AsInteger(object? value, string what) =>
        value as long? ?? throw new InvalidDataException($"DocBin: {what} is not an integer.");

    private static object? Required(List<KeyValuePair<object?, object?>> map, string key) =>
        Optional(map, key) ?? throw new InvalidDataException($"DocBin: the payload has no '{key}'.");

    private static object? Optional(List<KeyValuePair<object?, object?>> map, string key)
    {
        foreach (var (k, v) in map)
        {
            if (k is string s && s == key)
            {
                return v;
            }
        }

        return null;
    }
}
