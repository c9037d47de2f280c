using Prodigy.Build.Core.Text;
using Prodigy.Build.Core.Tokenization;

namespace Prodigy.Build.Core.Tests;

/// <summary>Python <c>re</c> semantics that .NET does not share, checked against CPython 3.11's answers.</summary>
public class PythonRegexTranslatorTests
{
    private static List<(int, int)> FindAll(string pattern, string text)
    {
        var matches = new List<(int, int)>();
        new PythonRegex(pattern, compiled: false).FindAll(text, matches);
        return matches;
    }

    private static bool Matches(string pattern, string text) => new PythonRegex(pattern, compiled: false).MatchesAtStart(text);

    [Fact]
    public void AstralRangesMatchWholeSurrogatePairs()
    {
        // re.findall(r'[\U0001F600-\U0001F64F]', 'a😀b🙏') == ['😀', '🙏']
        Assert.Equal([(1, 3), (4, 6)], FindAll(@"[\U0001F600-\U0001F64F]", "a😀b🙏"));
        Assert.Empty(FindAll(@"[\U0001F600-\U0001F64F]", "\uD83D x \uDE00"));
    }

    [Fact]
    public void NegatedClassesConsumeAWholeAstralCharacter()
    {
        Assert.Equal([(0, 2)], FindAll(@"[^a]", "😀"));
        Assert.True(Matches(@"^[^a]$", "😀"));
    }

    [Fact]
    public void BmpRangeUpToFFFFExcludesAstralCharacters()
    {
        // url_match's [\u00a1-\uffff]: Python excludes U+1F600; .NET would match each surrogate.
        Assert.False(Matches(@"^[\u00a1-\uffff]+$", "😀"));
        Assert.True(Matches(@"^[\u00a1-\uffff]+$", "é中"));
    }

    [Fact]
    public void CountedRepeatsCountCodePoints()
    {
        Assert.True(Matches(@"^.{2}$", "😀😀"));
        Assert.False(Matches(@"^.{4}$", "😀😀"));
    }

    [Theory]
    [InlineData("²", true)]      // Python: '²'.isalnum() is True; .NET's \w says no
    [InlineData("½", true)]
    [InlineData("\u0301", false)] // combining acute: .NET's \w says yes, Python no
    [InlineData("_", true)]
    [InlineData("𝐀", true)]      // astral letter
    public void WordCharactersFollowPython(string text, bool isWord) => Assert.Equal(isWord, Matches(@"^\w$", text));

    [Theory]
    [InlineData("\u001C", true)]
    [InlineData("\u001F", true)]
    [InlineData("\u200B", false)]
    [InlineData("\u00A0", true)]
    public void SpaceCharactersFollowPython(string text, bool isSpace) => Assert.Equal(isSpace, Matches(@"^\s$", text));

    [Fact]
    public void AstralDigitsAreDigits() => Assert.True(Matches(@"^\d$", "𝟎")); // U+1D7CE MATHEMATICAL BOLD DIGIT ZERO

    [Fact]
    public void FindAllFollowsPythonEmptyMatchRules()
    {
        // list(m.span() for m in re.finditer('x*', 'abxd'))
        Assert.Equal([(0, 0), (1, 1), (2, 3), (3, 3), (4, 4)], FindAll("x*", "abxd"));
        // After an empty match a non-empty one may start at the same place: re.finditer(r'|a', 'a')
        Assert.Equal([(0, 0), (0, 1), (1, 1)], FindAll("|a", "a"));
    }

    [Fact]
    public void LookbehindSeesAstralCharacters()
    {
        Assert.Equal([(2, 3)], FindAll(@"(?<=[\U0001F600-\U0001F64F])x", "😀x"));
        Assert.Empty(FindAll(@"(?<=[a-z])x", "😀x"));
    }

    [Fact]
    public void IgnoreCaseFollowsPythonFolding()
    {
        Assert.True(Matches("(?iu)^saint-étienne$", "SAINT-ÉTIENNE"));
        Assert.True(Matches("(?i)^k$", "\u212A"));  // KELVIN SIGN lowercases to k
        Assert.True(Matches("(?i)^s$", "ſ"));       // LATIN SMALL LETTER LONG S: re's extra case
        Assert.True(Matches("(?i)^[a-z]+$", "ſK"));
        Assert.False(Matches("(?i)^[0-9]$", "a"));
    }

    [Fact]
    public void ScopedFlagsApplyOnlyInsideTheirGroup()
    {
        Assert.True(Matches("^(?i:a)b$", "Ab"));
        Assert.False(Matches("^(?i:a)b$", "AB"));
    }

    [Fact]
    public void WordBoundaryUsesPythonWordCharacters()
    {
        // '²' is a word character in Python, so there is no boundary between 'x' and '²'.
        Assert.Empty(FindAll(@"x\b", "x²"));
        Assert.Single(FindAll(@"x\b", "x-"));
    }

    [Fact]
    public void PossessiveQuantifiersDoNotBacktrack()
    {
        Assert.False(Matches("^a*+a$", "aaa"));
        Assert.True(Matches("^a*a$", "aaa"));
    }

    [Fact]
    public void EscapesAndLiteralBraces()
    {
        Assert.True(Matches(@"^\x41\u0042\U00000043\101$", "ABCA"));
        Assert.True(Matches(@"^a{$", "a{"));
        Assert.True(Matches(@"^a{,2}$", "aa"));
        Assert.True(Matches(@"^[\]\-a]+$", "]-a"));
    }

    [Theory]
    [InlineData("(abc", "missing )")]
    [InlineData("[abc", "unterminated character set")]
    [InlineData("*a", "nothing to repeat")]
    [InlineData(@"\q", "bad escape")]
    [InlineData(@"(a)\1", "backreferences")]
    [InlineData("[z-a]", "bad character range")]
    public void InvalidPatternsAreReportedWithTheirPosition(string pattern, string reason)
    {
        var error = Assert.Throws<PythonRegexException>(() => new PythonRegex(pattern, compiled: false));
        Assert.Contains(reason, error.Message);
        Assert.Contains("position", error.Message);
    }

    [Fact]
    public void A_pattern_is_compiled_once_per_process_and_a_bad_one_is_refused_each_time()
    {
        // Every SpacyPipeline.Load builds a tokenizer; a trainer loads one per evaluation. Sharing the
        // regexes is what keeps each of those loads from compiling and JIT-ing them again.
        var first = PythonRegex.Shared(@"^[\(\[]", compiled: true);
        Assert.Same(first, PythonRegex.Shared(@"^[\(\[]", compiled: true));
        Assert.NotSame(first, PythonRegex.Shared(@"^[\(\[]", compiled: false));
        Assert.True(first.MatchesAtStart("(a"));

        Assert.Throws<PythonRegexException>(() => PythonRegex.Shared("(unclosed"));
        Assert.Throws<PythonRegexException>(() => PythonRegex.Shared("(unclosed"));
    }

    [Fact]
    public void Tokenizers_made_from_the_same_rules_share_their_compiled_affix_patterns()
    {
        var rules = TokenizerRules.BuiltIn("en");
        var one = new Tokenizer(rules);
        var other = new Tokenizer(rules);

        Assert.Equal(one.Tokenize("(Hello), world!").Select(t => t.Text), other.Tokenize("(Hello), world!").Select(t => t.Text));
        Assert.NotNull(one.PrefixRegex);
        Assert.Same(one.PrefixRegex, other.PrefixRegex);
    }
}
