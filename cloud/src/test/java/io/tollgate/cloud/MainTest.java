package io.tollgate.cloud;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.cloud.ledger.Database;
import io.tollgate.cloud.ledger.Ledger;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class MainTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    public void cloudPubkeyIsStableAcrossRuns() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        assertEquals(0, run("cloud", "pubkey", "--data", data.toString()));
        String first = out.toString(StandardCharsets.UTF_8);
        assertTrue(first.startsWith("-----BEGIN PUBLIC KEY-----\n"));
        assertEquals(0, run("cloud", "pubkey", "--data", data.toString()));
        assertEquals(first, out.toString(StandardCharsets.UTF_8));
        assertEquals(first, Files.readString(data.resolve("cloud/cloud.pub.pem")));
    }

    @Test
    public void deviceRegisterWritesTheLedger() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        TestRecordWriter w = TestRecordWriter.newDevice();
        Path pem = tmp.newFile("device.pub.pem").toPath();
        Files.writeString(pem, w.publicPem());
        assertEquals(err.toString(), 0, run("device", "register", "--id", w.deviceId(), "--public-key",
                pem.toString(), "--data", data.toString()));
        assertEquals("registered " + w.deviceId() + "\n", out.toString(StandardCharsets.UTF_8));
        assertEquals(0, run("device", "list", "--data", data.toString()));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith(w.deviceId() + "\tacked_seq=0"));
        try (Database db = Database.open(Database.defaultUrl(data))) {
            assertEquals(w.publicPem(), new Ledger(db).device(w.deviceId()).orElseThrow().publicKeyPem());
        }
    }

    @Test
    public void usageErrorsExitTwo() {
        assertEquals(2, run("device", "register", "--id", "x"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--public-key is required"));
        assertEquals(2, run("launch"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown command 'launch'"));
        assertEquals(1, run("run", "--mqtt", "none", "--db", "jdbc:mysql://x/y", "--http-port", "-1", "--data",
                tmp.getRoot().toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unsupported ledger URL"));
    }
}
