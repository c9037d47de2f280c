using Prodigy.Build.Core.Text;

namespace Prodigy.Build.Core.Tests;

/// <summary>CPython's <c>str.lower()</c> and <c>str.isspace()</c>, where .NET differs.</summary>
public class PythonTextTests
{
    [Theory]
    [InlineData("Hello", "hello")]
    [InlineData("İstanbul", "i\u0307stanbul")] // full lowercase mapping: two characters
    [InlineData("ΟΔΟΣ", "οδος")]                // final sigma
    [InlineData("ΣΑ", "σα")]                    // not final: nothing cased before it
    [InlineData("ΑΣ.", "ας.")]                  // final: '.' is case-ignorable... and not cased after
    [InlineData("ΑΣΑ", "ασα")]
    [InlineData("Σ", "σ")]
    [InlineData("𐐀", "𐐨")]                      // Deseret, above U+FFFF
    [InlineData("ẞ", "ß")]
    [InlineData("already lower", "already lower")]
    [InlineData("\uD800X", "\uD800x")]          // lone surrogate kept
    public void LowerIsPythonLower(string text, string expected) => Assert.Equal(expected, PythonText.Lower(text));

    [Theory]
    [InlineData('\u001C', true)]
    [InlineData('\u001F', true)]
    [InlineData('\u0085', true)]
    [InlineData('\u00A0', true)]
    [InlineData('\u200B', false)]
    [InlineData('\uFEFF', false)]
    [InlineData('\u180E', false)]
    [InlineData('x', false)]
    public void IsSpaceIsPythonIsSpace(char c, bool expected) => Assert.Equal(expected, PythonText.IsSpace(c));

    [Fact]
    public void CodePointCountCountsPairsOnce()
    {
        Assert.Equal(3, PythonText.CodePointCount("a😀b"));
        Assert.Equal(2, PythonText.CodePointCount("\uD800\uD800"));
        Assert.Equal(0, PythonText.CodePointCount(""));
    }
}
