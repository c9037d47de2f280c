using Prodigy.Build.Core.Scoring;
using Prodigy.Build.Core.Spacy;

namespace Prodigy.Build.Core.Tests.Scoring;

public sealed class ScoreDocTests
{
    private static readonly string[] Words = ["Apple", "hired", "Tim", "Cook"];

    [Fact]
    public void FromSpacyDoc_WithoutEntityTags_HasNoEntityAnnotation()
    {
        var doc = ScoreDoc.FromSpacyDoc(new SpacyDoc(Words, null, Words));
        Assert.False(doc.HasEntityAnnotation);
        Assert.Empty(doc.Entities);
    }

    [Fact]
    public void FromSpacyDoc_AnITagOpeningNoEntity_IsRefusedAsSpacysDocEntsRefusesIt()
    {
        var doc = new SpacyDoc(Words, null, Words) { Entities = SpacyEntities.FromIobTags(["I-ORG", "O", "O", "O"]) };
        Assert.Throws<ArgumentException>(() => ScoreDoc.FromSpacyDoc(doc));
    }

    [Fact]
    public void Constructor_AnEntityOverAMissingToken_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new ScoreDoc(
            Words,
            entities: [new ScoreSpan(2, 4, "PERSON")],
            missingEntityTokens: [false, false, false, true]));
    }

    [Fact]
    public void ScoreNer_TextsThatDifferBeyondSpacesAndCase_AreRefusedAsSpacysAlignmentRefusesThem()
    {
        var gold = new ScoreDoc(Words, entities: [new ScoreSpan(0, 1, "ORG")]);
        var pred = new ScoreDoc(["Apple", "fired", "Tim", "Cook"], entities: [new ScoreSpan(0, 1, "ORG")]);
        Assert.Throws<ArgumentException>(() => SpacyScorer.ScoreNer([(pred, gold)]));
    }

    [Fact]
    public void ScoreNer_TokenizationsDifferingOnlyInCaseAndSpaces_Align()
    {
        var gold = new ScoreDoc(["New", "York-based", "firm"], entities: [new ScoreSpan(0, 2, "ORG")]);
        var pred = new ScoreDoc(["new", "york", "-", "based", " ", "FIRM"], [true, false, false, true, false, false], entities: [new ScoreSpan(0, 4, "ORG")]);
        var scores = SpacyScorer.ScoreNer([(pred, gold)]);
        Assert.Equal(1, scores.Totals.TruePositives);
        Assert.Equal(0, scores.Totals.FalsePositives + scores.Totals.FalseNegatives);
    }
}
