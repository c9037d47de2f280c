namespace Prodigy.Build.Core.Scoring;

/// <summary>spaCy's tokenization scores (<c>Scorer.score_tokenization</c>): token_acc, token_p, token_r, token_f.</summary>
public sealed record TokenizationScores(double? Accuracy, double? Precision, double? Recall, double? F);

public static partial class SpacyScorer
{
    /// <summary>
    /// spaCy 3.5's <c>Scorer.score_tokenization</c>: token_acc is the share of the non-space predicted
    /// tokens aligned to exactly one gold token (the precision of that count: spaCy 3.5 reports it, later
    /// versions its F); token_p/r/f compare the character spans of the non-space tokens. All null when
    /// no predicted token was counted.
    /// </summary>
    public static TokenizationScores ScoreTokenization(IEnumerable<(ScoreDoc Pred, ScoreDoc Gold)> examples)
    {
        var accuracy = new PrfCounts();
        var spans = new PrfCounts();
        foreach (var (pred, gold) in examples)
        {
            var predToGold = TokenAlignment.PredictedToGold(pred.Words, gold.Words);
            var goldSpans = CharacterSpans(gold).Select(s => (s.Start, s.End)).ToHashSet();
            var predSpans = new HashSet<(int, int)>();
            foreach (var (index, start, end) in CharacterSpans(pred))
            {
                predSpans.Add((start, end));
                if (predToGold[index].Length == 1)
                {
                    accuracy.TruePositives++;
                }
                else
                {
                    accuracy.FalsePositives++;
                }
            }

            spans.ScoreSets(predSpans, goldSpans);
        }

        return accuracy.Total == 0
            ? new TokenizationScores(null, null, null, null)
            : new TokenizationScores(accuracy.Precision, spans.Precision, spans.Recall, spans.FScore);
    }

    // Python's str.isspace(): every character is whitespace (the texts' own offsets are UTF-16 on both sides).
    private static bool IsSpace(string word) => word.All(c => Text.PythonText.IsSpace(c));

    // The non-space tokens with their character offsets in the text the words and spaces spell.
    private static IEnumerable<(int Index, int Start, int End)> CharacterSpans(ScoreDoc doc)
    {
        var offset = 0;
        for (var i = 0; i < doc.Length; i++)
        {
            var word = doc.Words[i];
            if (!string.IsNullOrEmpty(word) && !IsSpace(word))
            {
                yield return (i, offset, offset + word.Length);
            }

            offset += word.Length + (doc.Spaces is { } s && s[i] ? 1 : 0);
        }
    }
}
