using Prodigy.Build.Core.Tokenization;
using Prodigy.Build.Trainer.Data;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// spaCy's Corpus trains on the tokenizer's tokens of each text and aligns the gold onto them
/// (Example.get_aligned_ner, get_aligned_spans_y2x). The shared fashion_brands corpus has four such texts
/// among 1,235 ("edit:" is one token there, two for spaCy's tokenizer).
/// </summary>
public class CorpusTokenizationTests
{
    private static readonly Tokenizer English = Tokenizer.ForLanguage("en");

    private static Example Gold(string[] words, bool[] spaces, IReadOnlyList<LabeledSpan> entities, bool[]? missing = null) => new()
    {
        Words = words,
        Spaces = spaces,
        Norms = words.Select(w => w.ToLowerInvariant()).ToArray(),
        Entities = entities,
        EntityMissing = missing ?? new bool[words.Length],
        Cats = new Dictionary<string, double> { ["FASHION"] = 1.0 },
        SpanGroups = new Dictionary<string, IReadOnlyList<LabeledSpan>> { ["sc"] = entities },
    };

    [Fact]
    public void Tokens_the_tokenizer_also_makes_are_kept_as_they_are()
    {
        var gold = Gold(["I", "love", "Gucci", "bags", "."], [true, true, true, false, false], [new(2, 3, "BRAND")]);
        Assert.Same(gold, CorpusTokenization.Predicted(gold, English));
    }

    [Fact]
    public void A_trailing_space_after_the_last_token_is_part_of_the_text()
    {
        // reference.text keeps the last token's space, and the tokenizer gives it back to that token.
        var gold = Gold(["I", "love", "Gucci"], [true, true, true], [new(2, 3, "BRAND")]);
        Assert.Same(gold, CorpusTokenization.Predicted(gold, English));
    }

    [Fact]
    public void A_split_token_takes_its_O_and_the_entities_move_to_the_new_positions()
    {
        // Gold "edit:" is one token; the tokenizer makes "edit" and ":". Both align to an O token only.
        var gold = Gold(["edit:", "I", "love", "Gucci", "bags"], [true, true, true, true, false], [new(3, 4, "BRAND")]);
        var predicted = CorpusTokenization.Predicted(gold, English);
        Assert.Equal(["edit", ":", "I", "love", "Gucci", "bags"], predicted.Words);
        Assert.Equal([false, true, true, true, true, false], predicted.Spaces);
        Assert.Equal([new LabeledSpan(4, 5, "BRAND")], predicted.Entities);
        Assert.All(predicted.EntityMissing!, Assert.False);
        Assert.Equal([new LabeledSpan(4, 5, "BRAND")], predicted.SpanGroups["sc"]);
        Assert.Equal(gold.Cats, predicted.Cats);
    }

    [Fact]
    public void An_entity_the_tokens_cannot_spell_is_dropped_and_its_token_is_missing()
    {
        // Gold "Gucci" + "bags" written without a space: the tokenizer makes one token "Guccibags", which
        // spells more than the entity, and aligns to a B and an O token: spaCy leaves it missing.
        var gold = Gold(["Gucci", "bags", "rock"], [false, true, false], [new(0, 1, "BRAND")]);
        var predicted = CorpusTokenization.Predicted(gold, English);
        Assert.Equal(["Guccibags", "rock"], predicted.Words);
        Assert.Empty(predicted.Entities!);
        Assert.Equal([true, false], predicted.EntityMissing!);
    }

    [Fact]
    public void Missing_gold_stays_missing_and_an_entity_over_split_tokens_covers_them_all()
    {
        // "Gucci-bags" is one gold entity token; the tokenizer splits it in three, all inside the entity.
        // "wow" had no annotation: still missing.
        var gold = Gold(["Gucci-bags", "rock", "wow"], [true, true, false], [new(0, 1, "BRAND")], [false, false, true]);
        var predicted = CorpusTokenization.Predicted(gold, English);
        Assert.Equal(["Gucci", "-", "bags", "rock", "wow"], predicted.Words);
        Assert.Equal([new LabeledSpan(0, 3, "BRAND")], predicted.Entities);
        Assert.Equal([false, false, false, false, true], predicted.EntityMissing!);
    }

    [Fact]
    public void Unknown_spaces_keep_the_corpus_tokens()
    {
        var gold = new Example { Words = ["edit:", "x"], Spaces = [true, false], Norms = ["edit:", "x"], UnknownSpaces = true };
        Assert.Same(gold, CorpusTokenization.Predicted(gold, English));
    }
}
