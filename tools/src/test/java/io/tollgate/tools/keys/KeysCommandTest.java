package io.tollgate.tools.keys;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.tollgate.tools.ToolRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code keys add|list|revoke} on a real key file: the key printed once, never listed, errors and exit codes. */
public class KeysCommandTest {
    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private String conf;
    private Path file;

    @Before
    public void setUp() {
        conf = tmp.getRoot().toPath().resolve("conf").toString();
        file = Path.of(conf, "api-keys.json");
    }

    private ToolRun keys(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "keys";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--conf";
        all[args.length + 2] = conf;
        return ToolRun.of(all);
    }

    @Test
    public void addPrintsTheKeyOnceAndListNeverShowsIt() throws Exception {
        ToolRun none = keys("list");
        assertEquals(none.toString(), 0, none.code());
        assertTrue(none.out(), none.out().startsWith("no API keys in " + file + ": protected mode"));

        ToolRun add = keys("add", "--tenant", "acme", "--role", "infer", "--models", "fashion-mnist,ocr",
                "--name", "line 7 camera");
        assertEquals(add.toString(), 0, add.code());
        String key = add.out().trim();
        assertTrue(add.out(), key.matches("tgk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}"));
        assertEquals("stdout is the key alone, for scripts", key + System.lineSeparator(), add.out());
        String id = key.substring(4, 16);
        assertTrue(add.err(), add.err().startsWith("added key " + id + " (tenant acme, role infer, models "
                + "fashion-mnist,ocr) to " + file + "; it is shown only now"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertFalse(Files.readString(file).contains(key.substring(17)));

        ToolRun list = keys("list");
        assertEquals(list.toString(), 0, list.code());
        String[] lines = list.out().split("\n");
        assertEquals(list.out(), 2, lines.length);
        assertTrue(lines[0], lines[0].matches("ID +TENANT +ROLE +MODELS +CREDENTIAL +CREATED +STATUS +NAME"));
        assertTrue(lines[1], lines[1].matches(id + " +acme +infer +fashion-mnist,ocr +key +\\S+Z +active +line 7 camera"));
        assertFalse(list.out(), list.out().contains(key.substring(17)));
    }

    @Test
    public void revokeMarksTheEntryAndAnUnknownIdFails() throws Exception {
        String key = keys("add", "--tenant", "ops", "--role", "admin").out().trim();
        String id = key.substring(4, 16);
        ToolRun revoke = keys("revoke", id);
        assertEquals(revoke.toString(), 0, revoke.code());
        assertTrue(revoke.out(), revoke.out().startsWith("revoked key " + id + " (tenant ops, role admin) at "));
        assertTrue(keys("list").out(), keys("list").out().contains(" revoked 20"));
        ToolRun unknown = keys("revoke", "0123456789ab");
        assertEquals(unknown.toString(), 1, unknown.code());
        assertEquals("tollgate keys revoke: no entry '0123456789ab' in " + file + "; bin/tollgate keys list shows the "
                + "ids\n", unknown.err());
    }

    @Test
    public void badValuesAreUsageErrorsAndABrokenFileIsUnreadable() throws Exception {
        ToolRun role = keys("add", "--tenant", "acme", "--role", "root");
        assertEquals(role.toString(), 2, role.code());
        assertEquals("tollgate keys add: --role: role 'root' is not one of infer, admin, metrics (try 'tollgate keys "
                + "add --help')\n", role.err());
        ToolRun tenant = keys("add", "--tenant", "=HYPERLINK(\"x\")", "--role", "infer");
        assertEquals(tenant.toString(), 2, tenant.code());
        assertTrue(tenant.err(), tenant.err().contains("is not 1 to 64 characters of A-Z a-z 0-9 . _ -"));
        ToolRun models = keys("add", "--tenant", "acme", "--role", "admin", "--models", "x");
        assertEquals(models.toString(), 2, models.code());
        assertTrue(models.err(), models.err().contains("only an infer key can be limited to models"));
        ToolRun missing = keys("add", "--role", "infer");
        assertEquals(missing.toString(), 2, missing.code());
        assertFalse(Files.exists(file));

        Files.createDirectories(file.getParent());
        Files.writeString(file, "{\"format\":\"tollgate-api-keys/1\",\"keys\":[{\"modles\":[]}]}");
        for (String[] cmd : new String[][] {{"list"}, {"add", "--tenant", "a", "--role", "infer"}, {"revoke", "x"}}) {
            ToolRun r = keys(cmd);
            assertEquals(r.toString(), 3, r.code());
            assertEquals(r.toString(), 1, r.err().lines().count());
            assertTrue(r.err(), r.err().contains(file + " is not a valid API key file: entry 1: unknown field "
                    + "\"modles\""));
        }
    }
}
