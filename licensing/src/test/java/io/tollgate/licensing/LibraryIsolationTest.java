package io.tollgate.licensing;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.Test;

/**
 * The library (io.tollgate.licensing) is JDK-only: none of its classes refers to the vendor helpers, BouncyCastle,
 * picocli or OSGi, so the launcher's class path needs nothing else (checked on the compiled class files).
 */
public class LibraryIsolationTest {
    @Test
    public void libraryClassesReferOnlyToTheJdk() throws Exception {
        Path dir = Path.of(Refusal.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("io/tollgate/licensing");
        List<String> offenders = new ArrayList<>();
        int classes = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                classes++;
                String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                for (String bad : List.of("io/tollgate/licensing/vendor", "org/bouncycastle", "picocli",
                        "org/osgi/framework", "com/fasterxml")) {
                    if (text.contains(bad)) {
                        offenders.add(f.getFileName() + " -> " + bad);
                    }
                }
            }
        }
        assertTrue("classes checked: " + classes, classes >= 10);
        assertEquals(List.of(), offenders);
    }
}
