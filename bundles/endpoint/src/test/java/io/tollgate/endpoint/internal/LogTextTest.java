package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class LogTextTest {
    @Test
    public void printableTextIsUnchanged() {
        String s = "POST /v2/models/fashion-mnist/infer Müller 東京 \uD83D\uDE00";
        assertSame(s, LogText.of(s));
        assertEquals("null", LogText.of(null));
    }

    @Test
    public void lineBreaksControlAndFormatCharactersAreEscaped() {
        assertEquals("a\\u000ab\\u000dc\\u2028d\\u2029e\\u0085f", LogText.of("a\nb\rc\u2028d\u2029e\u0085f"));
        assertEquals("\\u0000\\u0007\\u001b[31m\\u007f\\u0009", LogText.of("\0\u0007\u001b[31m\u007f\t"));
        assertEquals("bidi \\u202egnp.exe \\u200b \\ufeff", LogText.of("bidi \u202egnp.exe \u200b \ufeff"));
        assertEquals("private \\ue000, unpaired \\ud800x", LogText.of("private \ue000, unpaired \ud800x"));
    }

    @Test
    public void backslashesAreDoubledSoAnEscapeCannotBeForged() {
        assertEquals("C:\\\\x \\\\u000a", LogText.of("C:\\x \\u000a"));
    }

    @Test
    public void longTextIsCutWithItsLength() {
        String s = "a".repeat(LogText.MAX_CHARS + 100);
        assertEquals("a".repeat(LogText.MAX_CHARS) + "...(" + s.length() + " chars)", LogText.of(s));
        String escaped = LogText.of("\n".repeat(10_000));
        assertTrue(escaped, escaped.startsWith("\\u000a\\u000a") && escaped.endsWith("...(10000 chars)"));
        assertEquals(LogText.MAX_CHARS * 6 + "...(10000 chars)".length(), escaped.length());
        // a surrogate pair at the cut is not split
        String pair = "a".repeat(LogText.MAX_CHARS - 1) + "\uD83D\uDE00" + "b";
        assertEquals("a".repeat(LogText.MAX_CHARS - 1) + "...(" + pair.length() + " chars)", LogText.of(pair));
    }
}
