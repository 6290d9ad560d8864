package io.tollgate.endpoint.keys;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import io.tollgate.endpoint.testing.TestCa;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The key file: hashes only, owner-only, atomic and locked writes, strict reading. */
public class ApiKeyFileTest {
    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private Path conf;
    private ApiKeyFile file;

    @Before
    public void setUp() {
        conf = tmp.getRoot().toPath().resolve("conf");
        file = ApiKeyFile.in(conf);
    }

    @Test
    public void aNewKeyIsRandomAndOnlyItsHashIsWrittenOwnerOnly() throws Exception {
        assertEquals(List.of(), file.read()); // no file: no keys
        NewApiKey k = file.add("acme", ApiKeyRole.INFER, List.of("fashion-mnist"), "line 7 camera");
        assertTrue(k.key(), k.key().matches("tgk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}"));
        assertEquals(k.entry().id(), ApiKeyHash.idOf(k.key()));
        assertEquals(conf.resolve("api-keys.json"), file.path());
        String text = Files.readString(file.path());
        String secret = k.key().substring(17);
        assertFalse(text, text.contains(secret));
        assertFalse(text, text.contains(k.key()));
        assertTrue(text, text.contains(ApiKeyHash.ofKey(k.key())));
        assertFalse(k.toString(), k.toString().contains(secret));
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.path())));
        }
        assertFalse(Files.exists(conf.resolve("api-keys.json.tmp")));
        List<ApiKey> read = file.read();
        assertEquals(List.of(k.entry()), read);
        ApiKey e = read.get(0);
        assertEquals("acme", e.tenant());
        assertEquals(ApiKeyRole.INFER, e.role());
        assertEquals(List.of("fashion-mnist"), e.models());
        assertEquals("line 7 camera", e.name());
        assertTrue(e.active());
        assertTrue(ApiKeyHash.matches(e.keySha256(), ApiKeyHash.ofKey(k.key())));
        // two keys never share an id or a secret
        NewApiKey k2 = file.add("acme", ApiKeyRole.INFER, List.of(), "");
        assertFalse(k2.entry().id().equals(k.entry().id()));
        assertFalse(k2.key().substring(17).equals(secret));
    }

    @Test
    public void revokingKeepsTheEntryWithItsTime() throws Exception {
        NewApiKey k = file.add("acme", ApiKeyRole.ADMIN, List.of(), "");
        Optional<ApiKey> r = file.revoke(k.entry().id());
        assertTrue(r.isPresent());
        assertFalse(r.get().active());
        ApiKey again = file.revoke(k.entry().id()).orElseThrow();
        assertEquals(r.get().revoked(), again.revoked()); // revoking twice changes nothing
        assertEquals(List.of(again), file.read());
        assertEquals(Optional.empty(), file.revoke("0123456789ab"));
    }

    @Test
    public void concurrentWritersLoseNothing() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<NewApiKey>> adds = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                // separate ApiKeyFile objects: the lock is the file's, as between two bin/tollgate processes
                adds.add(pool.submit(() -> ApiKeyFile.in(conf).add("t", ApiKeyRole.INFER, List.of(), "")));
            }
            Set<String> ids = new HashSet<>();
            for (Future<NewApiKey> f : adds) {
                ids.add(f.get().entry().id());
            }
            assertEquals(40, ids.size());
            assertEquals(40, file.read().size());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void badValuesAreRefusedBeforeAnythingIsWritten() throws Exception {
        assertBad(() -> file.add("", ApiKeyRole.INFER, List.of(), ""), "tenant '' is not 1 to 64 characters");
        assertBad(() -> file.add("=cmd|calc", ApiKeyRole.INFER, List.of(), ""), "tenant '=cmd|calc'");
        assertBad(() -> file.add("a".repeat(65), ApiKeyRole.INFER, List.of(), ""), "is not 1 to 64 characters");
        assertBad(() -> file.add("acme", ApiKeyRole.ADMIN, List.of("echo"), ""), "only an infer key can be limited");
        assertBad(() -> file.add("acme", ApiKeyRole.INFER, List.of("a/b"), ""), "model 'a/b' is not a model name");
        assertBad(() -> file.add("acme", ApiKeyRole.INFER, List.of(), "tab\there"), "without control characters");
        assertEquals("role 'root' is not one of infer, admin, metrics",
                assertThrows(() -> ApiKeyRole.parse("root")).getMessage());
        assertFalse(Files.exists(file.path()));
    }

    private interface Call {
        void run() throws Exception;
    }

    private static Exception assertThrows(Call c) {
        try {
            c.run();
        } catch (Exception e) {
            return e;
        }
        throw new AssertionError("no exception");
    }

    private static void assertBad(Call c, String part) {
        Exception e = assertThrows(c);
        assertTrue(e.toString(), e instanceof IllegalArgumentException);
        assertTrue(e.getMessage(), e.getMessage().contains(part));
    }

    /** A key file that is a FIFO blocked every reader (each request's key check, keys list) until a writer came. */
    @Test(timeout = 20_000)
    public void aKeyFileThatIsNoRegularFileIsRefusedAtOnce() throws Exception {
        java.nio.file.Files.createDirectories(conf);
        Path f = conf.resolve(ApiKeyFile.FILE_NAME);
        org.junit.Assert.assertEquals(0, new ProcessBuilder("mkfifo", f.toString()).inheritIO().start().waitFor());
        try {
            file.read();
            org.junit.Assert.fail("read a FIFO");
        } catch (java.io.IOException e) {
            org.junit.Assert.assertTrue(e.getMessage(), e.getMessage().contains(f + " is not a regular file"));
        }
    }

    @Test
    public void readingIsStrictAndSaysWhereTheFileIsWrong() throws Exception {
        NewApiKey k = file.add("acme", ApiKeyRole.INFER, List.of(), "");
        String good = Files.readString(file.path());
        String entry = good.substring(good.indexOf('{', good.indexOf('[')), good.lastIndexOf('}', good.lastIndexOf(']')) + 1);
        assertUnreadable(good.replace("\"models\"", "\"modles\""), "entry 1 (id " + k.entry().id()
                + "): unknown field \"modles\"");
        assertUnreadable(good.replace("\"infer\"", "\"root\""), "entry 1 (id " + k.entry().id()
                + "): role 'root' is not one of infer, admin, metrics");
        assertUnreadable(good.replace("tollgate-api-keys/1", "tollgate-api-keys/9"), "\"format\" is "
                + "'tollgate-api-keys/9'; expected 'tollgate-api-keys/1'");
        assertUnreadable(good.replace(entry, entry + "," + entry), "entry 2: id " + k.entry().id() + " is used twice");
        assertUnreadable(good.replace("\"tenant\" : \"acme\"", "\"tenant\" : \"acme\", \"tenant\" : \"evil\""),
                "field \"tenant\" is given twice");
        assertUnreadable(good.replace("\"key_sha256\" : \"", "\"key_sha256\" : \"0"), "key_sha256 is not 64 lowercase");
        assertUnreadable(good.replace("\"created\" : \"", "\"created\" : \"yesterday"), "\"created\" is 'yesterday");
        assertUnreadable(good.substring(0, good.length() / 2), "it is not valid JSON (");
        assertUnreadable("[]", "it is not a JSON object");
        assertUnreadable("", "it is not a JSON object");
    }

    private void assertUnreadable(String content, String part) throws IOException {
        Files.writeString(conf.resolve("bad.json"), content, StandardCharsets.UTF_8);
        try {
            List<ApiKey> read = ApiKeyFile.in(conf).parse(content.getBytes(StandardCharsets.UTF_8));
            fail("read " + read + " from " + content);
        } catch (IOException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith(file.path() + " is not a valid API key file: "));
            assertTrue(e.getMessage(), e.getMessage().contains(part));
        }
    }

    @Test
    public void aCertificateIsBoundByItsSha256AsOpensslPrintsIt() throws Exception {
        assumeTrue("needs the openssl command", TestCa.opensslAvailable());
        TestCa ca = TestCa.make(tmp.newFolder("ca").toPath());
        ApiKey e = file.addCertificate("initech", ApiKeyRole.INFER, List.of(), "", ca.clientCert);
        String openssl = ca.openssl("x509", "-in", ca.clientCert.toString(), "-noout", "-fingerprint", "-sha256");
        // "sha256 Fingerprint=AB:CD:..."
        String expected = openssl.trim().substring(openssl.indexOf('=') + 1).replace(":", "").toLowerCase(Locale.ROOT);
        assertEquals(expected, e.certSha256());
        assertNull(e.keySha256());
        assertTrue(e.certificate());
        assertEquals("CN=line-7-camera", e.name());
        Exception twice = assertThrows(() -> file.addCertificate("globex", ApiKeyRole.ADMIN, List.of(), "x",
                ca.clientCert));
        assertTrue(twice.getMessage(), twice instanceof IllegalStateException
                && twice.getMessage().contains("is bound already, to entry " + e.id()));
        Exception notCert = assertThrows(() -> file.addCertificate("a", ApiKeyRole.INFER, List.of(), "", ca.clientKey));
        assertTrue(notCert.getMessage(), notCert instanceof IOException);
    }
}
