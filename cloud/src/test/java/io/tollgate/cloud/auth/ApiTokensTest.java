package io.tollgate.cloud.auth;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The billing API's token file ({@code <data>/auth/api-tokens.json}) as {@link ApiTokens} reads it. */
public class ApiTokensTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /**
     * Guards that the token file is one JSON document: a second object or text after it is "not JSON", never the
     * first object's tokens taken while the rest is ignored.
     */
    @Test
    public void aTokenFileWithContentAfterItsJsonIsRefused() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        ApiTokens.Created created = ApiTokens.create(data, ApiRole.ADMIN, null, "ops");
        Path file = ApiTokens.file(data);
        String doc = Files.readString(file);
        assertEquals("the document alone is read", List.of(created.token()), ApiTokens.list(data));

        String[][] cases = {
            {doc + "{\"tokens\": []}", "Trailing token (of type START_OBJECT) found after value"},
            {doc + " x", "Unrecognized token 'x'"},
        };
        for (String[] c : cases) {
            Files.writeString(file, c[0]);
            try {
                List<ApiToken> read = ApiTokens.list(data);
                fail("read " + c[0] + " as " + read);
            } catch (IOException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith(file + " is not JSON: " + c[1]));
            }
        }
    }
}
