package io.tollgate.serving;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.tollgate.model.Tensor;
import java.util.List;
import org.junit.Test;

/** The request id rule (issue 7): one id per request, never empty, safe in logs, JSON, CSV and spreadsheets. */
public class InferenceRequestTest {
    private static final String RULE = "a request id is 1 to 128 characters: letters A-Z a-z, digits 0-9 and"
            + " - . _ ~ : / @ + =, starting with a letter or a digit";

    private static InferenceRequest withId(String id) {
        return new InferenceRequest("m", null, id, List.of(Tensor.ofFloats("x", new long[] {1}, new float[] {1})),
                List.of(), null, null);
    }

    private static void refused(String id, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> withId(id));
        assertEquals(message + "; " + RULE, e.getMessage());
    }

    @Test
    public void acceptsTheAllowedCharactersUpTo128() {
        for (String id : new String[] {"line-7-cam-2", "0", "Z", "019a2b3c-4d5e-7f01-8a2b-3c4d5e6f7a8b",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "cam2/2026-11-30T10:15:00.123Z",
            "ops@plant.example", "aGVsbG8+/w==", "a~b_c.d", "x".repeat(128)}) {
            assertEquals(id, withId(id).id());
        }
    }

    @Test
    public void refusesAMissingOrEmptyId() {
        refused(null, "request id is missing");
        refused("", "request id is missing");
    }

    @Test
    public void refusesIdsLongerThan128Characters() {
        refused("x".repeat(129), "request id has 129 characters; at most 128 are allowed");
        refused("\u00fc".repeat(200), "request id has 200 characters; at most 128 are allowed");
    }

    @Test
    public void refusesCharactersOutsideTheSetNamingTheFirstOne() {
        refused("cam\u00012", "request id has U+0001 at character 4");
        refused("a\nb", "request id has U+000A at character 2");
        refused("ab\u007f", "request id has U+007F at character 3");
        refused("m\u00fcller", "request id has U+00FC at character 2");
        refused("cam-\ud83d\ude80", "request id has U+1F680 at character 5");
        refused("a b", "request id has ' ' (U+0020) at character 2");
        refused("q\"uote", "request id has '\"' (U+0022) at character 2");
        refused("it's", "request id has ''' (U+0027) at character 3");
        refused("back\\slash", "request id has '\\' (U+005C) at character 5");
        refused("a,b", "request id has ',' (U+002C) at character 2");
        refused("a;b", "request id has ';' (U+003B) at character 2");
        refused("<b>", "request id has '<' (U+003C) at character 1");
    }

    @Test
    public void refusesIdsThatDoNotStartWithALetterOrDigit() {
        for (String lead : new String[] {"=", "+", "-", "@", ".", "/", ":", "_", "~"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> withId(lead + "1"));
            assertTrue(e.getMessage(), e.getMessage().startsWith("request id starts with '" + lead + "' (U+00"));
        }
    }
}
