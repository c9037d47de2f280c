namespace Prodigy.Build.Core.Spacy;

/// <summary>Conversions between IOB tag strings and <see cref="EntityTag"/> arrays.</summary>
public static class SpacyEntities
{
    /// <summary>
    /// Converts per-token IOB tags as spaCy's <c>Doc(vocab, words, ents=tags)</c> does: <c>B-X</c>, <c>I-X</c>,
    /// <c>O</c>, and <c>null</c> / <c>""</c> / <c>"-"</c> = missing. IOB1 input is rewritten to IOB2 the way the
    /// Doc constructor does it: an <c>I-</c> tag that follows O, a missing tag, or an entity of another label
    /// becomes <c>B-</c>. Like spaCy 3.5.4, an <c>I-</c> tag on token 0 is left as it is.
    /// </summary>
    /// <exception cref="ArgumentException">A tag is not O, B-X, I-X or missing (BILUO tags are refused, as spaCy does).</exception>
    public static EntityTag[] FromIobTags(IReadOnlyList<string?> tags)
    {
        var result = new EntityTag[tags.Count];
        for (var i = 0; i < tags.Count; i++)
        {
            var tag = tags[i];
            if (string.IsNullOrEmpty(tag) || tag == "-")
            {
                result[i] = EntityTag.Missing;
            }
            else if (tag == "O")
            {
                result[i] = EntityTag.Outside;
            }
            else if (tag.Length > 2 && tag[1] == '-' && (tag[0] == 'B' || tag[0] == 'I'))
            {
                var label = tag[2..];
                var iob = tag[0] == 'B' ? EntityIob.Begin : EntityIob.Inside;
                if (iob == EntityIob.Inside && i > 0)
                {
                    var previous = result[i - 1];
                    if (previous.Iob is EntityIob.Missing or EntityIob.Outside || previous.Label != label)
                    {
                        iob = EntityIob.Begin;
                    }
                }

                result[i] = new EntityTag(iob, label);
            }
            else
            {
                throw new ArgumentException($"Token {i}: '{tag}' is not an IOB entity tag (O, B-LABEL, I-LABEL, or - for missing).", nameof(tags));
            }
        }

        return result;
    }

    /// <summary>The IOB tag of every token (<c>"-"</c> = missing); <paramref name="entities"/> null = all missing.</summary>
    public static string[] ToIobTags(IReadOnlyList<EntityTag>? entities, int length)
    {
        var result = new string[length];
        for (var i = 0; i < length; i++)
        {
            var tag = entities is null ? EntityTag.Missing : entities[i];
            result[i] = tag.Iob switch
            {
                EntityIob.Begin => "B-" + tag.Label,
                EntityIob.Inside => "I-" + tag.Label,
                EntityIob.Outside => "O",
                _ => "-",
            };
        }

        return result;
    }
}
