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
import java.util.List;
import java.util.stream.Stream;
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

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    public void cloudPubkeyIsStableAcrossRuns() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        assertEquals(0, run("cloud", "pubkey", "--data", data.toString()));
        String first = out();
        assertTrue(first.startsWith("-----BEGIN PUBLIC KEY-----\n"));
        assertEquals(0, run("cloud", "pubkey", "--data", data.toString()));
        assertEquals(first, out());
        assertEquals(first, Files.readString(data.resolve("cloud/cloud.pub.pem")));
    }

    @Test
    public void deviceRegisterWritesTheLedger() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        TestRecordWriter w = TestRecordWriter.newDevice();
        Path pem = tmp.newFile("device.pub.pem").toPath();
        Files.writeString(pem, w.publicPem());
        assertEquals(err(), 0, run("device", "register", "--id", w.deviceId(), "--public-key",
                pem.toString(), "--data", data.toString()));
        assertEquals("registered " + w.deviceId() + "\n", out());
        assertEquals(0, run("device", "list", "--data", data.toString()));
        assertTrue(out().startsWith(w.deviceId() + "\tacked_seq=0"));
        try (Database db = Database.open(Database.defaultUrl(data))) {
            assertEquals(w.publicPem(), new Ledger(db).device(w.deviceId()).orElseThrow().publicKeyPem());
        }
    }

    @Test
    public void usageErrorsAreOneLineAndExitTwo() {
        assertEquals(2, run("device", "register", "--id", "x"));
        assertEquals("tollgate-billing device register: Missing required option: '--public-key=FILE.pem' "
                + "(try 'tollgate-billing device register --help')\n", err());
        assertEquals(2, run("launch"));
        assertEquals("tollgate-billing: unknown command 'launch'; one of: run, device, cloud, version, help "
                + "(try 'tollgate-billing --help')\n", err());
        assertEquals(2, run("run", "--http-port", "eighty"));
        assertEquals(1, err().lines().count());
        assertEquals(2, run("device", "list", "--bogus"));
        assertEquals("tollgate-billing device list: unknown option '--bogus' "
                + "(try 'tollgate-billing device list --help')\n", err());
        assertEquals("", out());
    }

    @Test
    public void failuresExitOneWithTheReason() throws Exception {
        assertEquals(1, run("run", "--mqtt", "none", "--db", "jdbc:mysql://x/y", "--http-port", "-1", "--data",
                tmp.getRoot().toString()));
        assertTrue(err(), err().startsWith("tollgate-billing run: ") && err().contains("unsupported ledger URL"));
        assertEquals(1, run("device", "register", "--id", "x", "--public-key", tmp.getRoot().toPath()
                .resolve("missing.pem").toString(), "--data", tmp.getRoot().toString()));
        assertTrue(err(), err().startsWith("tollgate-billing device register: ") && err().contains("missing.pem"));
    }

    @Test
    public void everyCommandAnswersHelpAndTheTopLevelListsThem() {
        List<List<String>> commands = List.of(List.of(), List.of("run"), List.of("device"), List.of("device", "register"),
                List.of("device", "list"), List.of("cloud"), List.of("cloud", "pubkey"), List.of("version"),
                List.of("help"));
        for (List<String> command : commands) {
            String[] args = Stream.concat(command.stream(), Stream.of("--help")).toArray(String[]::new);
            assertEquals(command + ": " + err(), 0, run(args));
            assertTrue(command + ": " + out(), out().startsWith(("Usage: tollgate-billing " + String.join(" ", command)).trim()));
        }
        assertEquals(0, run("--help"));
        for (String leaf : List.of("run", "device register", "device list", "cloud pubkey", "version", "help")) {
            assertTrue(leaf + " in\n" + out(), out().contains("\n  " + leaf + " "));
        }
    }

    @Test
    public void versionIsTheProjectVersion() {
        String expected = "tollgate-billing " + System.getProperty("tollgate.project.version") + "\n";
        assertEquals(0, run("version"));
        assertEquals(expected, out());
        assertEquals(0, run("--version"));
        assertEquals(expected, out());
    }
}
