package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The kept state file of the models an operator unloaded ({@code <repository.state.dir>/unloaded.json}). */
public class UnloadedModelsTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /**
     * Guards that the state file is one JSON document: a second object or text after it is refused (activation then
     * fails), never the first object's list taken while the rest is ignored.
     */
    @Test
    public void aStateFileWithContentAfterItsJsonIsRefused() throws Exception {
        Path dir = tmp.newFolder("state").toPath();
        Path file = dir.resolve("unloaded.json");
        String doc = "{\"unloaded\": [\"fashion-mnist\"]}";
        Files.writeString(file, doc);
        assertEquals("the document alone is read", Set.of("fashion-mnist"), new UnloadedModels(dir).names());

        String[][] cases = {
            {doc + "{\"unloaded\": []}", "Trailing token (of type START_OBJECT) found after value"},
            {doc + " x", "Unrecognized token 'x'"},
        };
        for (String[] c : cases) {
            Files.writeString(file, c[0]);
            try {
                UnloadedModels read = new UnloadedModels(dir);
                fail("read " + c[0] + " as " + read.names());
            } catch (IOException e) {
                assertTrue(c[0] + ": " + e, e.getCause() instanceof JsonProcessingException);
                assertTrue(e.getMessage(), e.getMessage().startsWith(file + " is not valid JSON at line 1, column "));
                assertTrue(e.getMessage(), e.getMessage().contains(c[1]));
                assertTrue(e.getMessage(), e.getMessage().endsWith("; fix or delete it (deleting it loads every"
                        + " installed model)"));
            }
        }
    }
}
