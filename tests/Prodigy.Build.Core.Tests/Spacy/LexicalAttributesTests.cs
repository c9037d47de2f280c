using Prodigy.Build.Core.Spacy;

namespace Prodigy.Build.Core.Tests.Spacy;

public sealed class LexicalAttributesTests
{
    // Values from spaCy's own tests (tests/lang/test_attrs.py: test_lex_attrs_word_shape) and Python slicing.
    [Theory]
    [InlineData("Nasa", "Xxxx")]
    [InlineData("capitalized", "xxxx")]
    [InlineData("999999999", "dddd")]
    [InlineData("C3P0", "XdXd")]
    [InlineData(",", ",")]
    [InlineData("\n", "\n")]
    [InlineData("``,-", "``,-")]
    [InlineData("Apple's", "Xxxxx'x")]
    [InlineData("U.S.", "X.X.")]
    [InlineData("", "")]
    [InlineData("Ünïcödé", "Xxxxx")]
    [InlineData("😀😀😀😀😀", "😀😀😀😀")]
    public void Shape_is_spacys_word_shape(string word, string shape) => Assert.Equal(shape, LexicalAttributes.Shape(word));

    [Fact]
    public void A_word_of_100_characters_has_the_shape_LONG()
    {
        Assert.Equal("LONG", LexicalAttributes.Shape(new string('a', 100)));
        Assert.Equal("xxxx", LexicalAttributes.Shape(new string('a', 99)));
    }

    [Theory]
    [InlineData("Hello", "H", "llo")]
    [InlineData("a", "a", "a")]
    [InlineData("", "", "")]
    [InlineData("😀ab😀", "😀", "ab😀")]
    public void Prefix_and_suffix_slice_code_points(string word, string prefix, string suffix)
    {
        Assert.Equal(prefix, LexicalAttributes.Prefix(word));
        Assert.Equal(suffix, LexicalAttributes.Suffix(word));
    }
}
