package io.tollgate.model;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Optional;
import org.junit.Test;

public class ModelNamesTest {
    @Test
    public void acceptsWhatATritonModelDirectoryCanBeNamed() {
        for (String name : new String[] {"ResNet50", "yolov8n-Seg", "resnet50", "fashion mnist", "bert_base.v2",
                "détecteur", "模型", "a+b (v2) #1", "a,b;c=d", "100%", "x".repeat(128), "\uD83D\uDE80 rocket"}) {
            assertEquals(name, Optional.empty(), ModelNames.problem(name));
        }
    }

    @Test
    public void refusesSeparatorsQuotesUnprintablesAndEdgeSpaces() {
        assertEquals(Optional.of("is empty"), ModelNames.problem(""));
        assertEquals(Optional.of("is empty"), ModelNames.problem(null));
        assertEquals(Optional.of("has 129 characters, more than 128"), ModelNames.problem("x".repeat(129)));
        assertEquals(Optional.of("is '..', which names a directory itself"), ModelNames.problem(".."));
        assertEquals(Optional.of("is '.', which names a directory itself"), ModelNames.problem("."));
        assertEquals(Optional.of("contains '/'"), ModelNames.problem("a/b"));
        assertEquals(Optional.of("contains '\\'"), ModelNames.problem("a\\b"));
        assertEquals(Optional.of("contains '\"'"), ModelNames.problem("a\"b"));
        assertEquals(Optional.of("starts or ends with a space"), ModelNames.problem(" a"));
        assertEquals(Optional.of("starts or ends with a space"), ModelNames.problem("a\u00a0"));
        assertEquals(Optional.of("contains the unprintable character U+000A"), ModelNames.problem("a\nb"));
        assertEquals(Optional.of("contains the unprintable character U+202E"), ModelNames.problem("a\u202eb"));
        assertEquals(Optional.of("contains the unprintable character U+2028"), ModelNames.problem("a\u2028b"));
        assertEquals(Optional.of("contains the unprintable character U+D800"), ModelNames.problem("a\ud800b"));
        assertEquals(Optional.of("contains the unprintable character U+E000"), ModelNames.problem("a\ue000b"));
        assertTrue(ModelNames.valid("ResNet50"));
    }
}
