package io.tollgate.cloud;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.tollgate.cloud.ledger.Database;
import io.tollgate.cloud.ledger.Ledger;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
        assertTrue(out(), out().matches("registered " + w.deviceId() + "\nmqtt-password [A-Za-z0-9_-]{43}\n"));
        String password = out().lines().skip(1).findFirst().orElseThrow().substring("mqtt-password ".length());
        assertTrue("its hash is stored", io.tollgate.cloud.auth.MqttPasswords.matches(password,
                io.tollgate.cloud.auth.MqttPasswords.read(data.resolve("auth/mqtt-passwd")).get(w.deviceId())));
        assertEquals(0, run("device", "list", "--data", data.toString()));
        assertTrue(out(), out().startsWith(w.deviceId() + "\ttenants=default\tacked_seq=0"));
        try (Database db = Database.open(Database.defaultUrl(data))) {
            assertEquals(w.publicPem(), new Ledger(db).device(w.deviceId()).orElseThrow().publicKeyPem());
        }
    }

    @Test
    public void theDataFolderIsOwnerOnly() throws Exception {
        Path data = tmp.getRoot().toPath().resolve("new/data");
        TestRecordWriter w = TestRecordWriter.newDevice();
        Path pem = tmp.newFile("device.pub.pem").toPath();
        Files.writeString(pem, w.publicPem());
        assertEquals(err(), 0, run("device", "register", "--id", w.deviceId(), "--public-key", pem.toString(),
                "--data", data.toString()));
        assertTrue(Files.isRegularFile(data.resolve("ledger.mv.db")));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data)));
        Path old = tmp.newFolder("old").toPath();
        Files.setPosixFilePermissions(old, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(err(), 0, run("cloud", "pubkey", "--data", old.toString()));
        assertEquals("an existing wider one is narrowed", "rwx------",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(old)));
        Path token = tmp.getRoot().toPath().resolve("tokens-data");
        assertEquals(err(), 0, run("token", "create", "--role", "admin", "--data", token.toString()));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(token)));
    }

    @Test
    public void tokensAreCreatedListedAndRevoked() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        assertEquals(err(), 0, run("token", "create", "--role", "reader", "--tenant", "acme", "--name", "portal",
                "--data", data.toString()));
        assertTrue(out(), out().matches("tgb_[A-Za-z0-9_-]{43}\n"));
        assertTrue(err(), err().contains("shown only now"));
        String token = out().trim();
        assertEquals(0, run("token", "list", "--data", data.toString()));
        assertTrue(out(), out().matches("([0-9a-f]{12})\tportal\treader\tacme\t\\S+Z\n"));
        assertFalse(out().contains(token));
        String id = out().substring(0, 12);
        assertEquals(1, run("token", "revoke", "nope", "--data", data.toString()));
        assertEquals("tollgate-billing token revoke: no token with id nope (tollgate-billing token list)\n", err());
        assertEquals(0, run("token", "revoke", id, "--data", data.toString()));
        assertEquals(0, run("token", "list", "--data", data.toString()));
        assertEquals("", out());
        assertEquals(2, run("token", "create", "--role", "root", "--data", data.toString()));
        assertTrue(err(), err().contains("--role must be admin, reader or enroll, not \"root\""));
        assertEquals(2, run("token", "create", "--role", "admin", "--tenant", "acme", "--data", data.toString()));
        assertTrue(err(), err().contains("an admin token is for every tenant"));
        assertEquals(2, run("token", "create", "--role", "reader", "--tenant", "ACME", "--data", data.toString()));
    }

    @Test
    public void brokerConfigWritesTheFilesAndRunChecksThePasswordFile() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        Path out = tmp.getRoot().toPath().resolve("broker");
        assertEquals(err(), 0, run("broker-config", "--out", out.toString(), "--data", data.toString(), "--port",
                "18883"));
        assertTrue(out(), out().contains("--mqtt-username tollgate-billing --mqtt-password-file "
                + data.toAbsolutePath().resolve("auth/mqtt-billing.password")));
        assertTrue(Files.readString(out.resolve("mosquitto.conf")).contains("listener 18883 127.0.0.1\n"));
        assertTrue(Files.readString(out.resolve("passwd")).contains("\ntollgate-billing:$7$101$"));
        assertEquals(2, run("broker-config", "--out", out.toString(), "--port", "0"));

        Path pw = data.resolve("auth/mqtt-billing.password");
        assertEquals(2, run("run", "--mqtt-password-file", pw.toString(), "--mqtt", "tcp://127.0.0.1:1", "--data",
                data.toString()));
        assertEquals("tollgate-billing run: --mqtt-password-file needs --mqtt-username (try 'tollgate-billing run "
                + "--help')\n", err());
        assertEquals(3, run("run", "--mqtt-username", "tollgate-billing", "--mqtt-password-file",
                data.resolve("nope").toString(), "--mqtt", "tcp://127.0.0.1:1", "--data", data.toString()));
        assertTrue(err(), err().contains("cannot read --mqtt-password-file " + data.resolve("nope") + ": no such file"));
        Files.setPosixFilePermissions(pw, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(1, run("run", "--mqtt-username", "tollgate-billing", "--mqtt-password-file", pw.toString(),
                "--mqtt", "tcp://127.0.0.1:1", "--http-port", "-1", "--data", data.toString()));
        assertTrue(err(), err().contains("has mode rw-r--r--; make it readable by its owner only (chmod 600"));
    }

    @Test
    public void deviceRegisterBindsTenantsAndRefusesBadOnes() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        TestRecordWriter w = TestRecordWriter.newDevice();
        Path pem = tmp.newFile("device.pub.pem").toPath();
        Files.writeString(pem, w.publicPem());
        assertEquals(2, run("device", "register", "--id", w.deviceId(), "--public-key", pem.toString(), "--tenant",
                "Acme!", "--data", data.toString()));
        assertTrue(err(), err().contains("--tenant' (T): \"Acme!\" is not a tenant name"));
        assertEquals(err(), 0, run("device", "register", "--id", w.deviceId(), "--public-key", pem.toString(),
                "--tenant", "acme", "--tenant", "beta", "--data", data.toString()));
        assertEquals(0, run("device", "list", "--data", data.toString()));
        assertTrue(out(), out().startsWith(w.deviceId() + "\ttenants=acme,beta\tacked_seq=0"));
        assertEquals(1, run("device", "register", "--id", "tollgate-billing", "--public-key", pem.toString(),
                "--data", data.toString()));
        assertTrue(err(), err().contains("reserved for the billing service's own broker identity"));
    }

    @Test
    public void anH2UrlThatOpensOrReachesAServerIsRefused() throws Exception {
        Path data = tmp.newFolder("h2").toPath();
        String file = "jdbc:h2:file:" + data.resolve("x");
        for (String url : List.of(file + ";AUTO_SERVER=TRUE", file + ";auto_server=true", file + ";Auto_Server=1",
                file + ";AUTO_SERVER_PORT=9090", file + ";%41UTO_SERVER=TRUE", file + "%3BAUTO%5FSERVER%3DTRUE",
                "jdbc:h2:tcp://localhost/~/ledger", "JDBC:H2:TCP://10.0.0.1:9092/ledger",
                "jdbc:h2:ssl://localhost/ledger", "jdbc:h2:%74cp://localhost/ledger")) {
            assertEquals(url, 2, run("device", "list", "--db", url));
            assertTrue(err(), err().contains("--db opens an H2 server or a remote H2 connection"));
            assertEquals(url, 2, run("run", "--mqtt", "none", "--http-port", "-1", "--data", data.toString(),
                    "--db", url));
            assertTrue(err(), err().contains("the ledger is never on the network"));
        }
        assertFalse("nothing was created", Files.exists(data.resolve("x.mv.db")));
        assertEquals("an embedded file URL is still accepted", 0,
                run("device", "list", "--db", file));
    }

    @Test
    public void aPasswordNeverTravelsOnTheCommandLine() throws Exception {
        for (String url : List.of("jdbc:postgresql://127.0.0.1:5432/test?user=postgres&password=secret",
                "jdbc:postgresql://127.0.0.1:5432/test?user=postgres&PassWord=secret",
                "jdbc:postgresql://127.0.0.1:5432/test?user=postgres&pass%77ord=secret",
                "jdbc:postgresql://127.0.0.1:5432/test?user=postgres&%50ASSWORD%3Dsecret")) {
            assertEquals(url, 2, run("device", "list", "--db", url));
            assertTrue(err(), err().contains("--db carries a password; put it in a file readable only by you "
                    + "(chmod 600 FILE) and give --db-password-file FILE"));
        }
        Path data = tmp.newFolder("pw").toPath();
        Path pw = data.resolve("db.password");
        Files.writeString(pw, "secret\n");
        Files.setPosixFilePermissions(pw, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(1, run("device", "list", "--db", "jdbc:h2:file:" + data.resolve("x"), "--db-password-file",
                pw.toString()));
        assertTrue(err(), err().contains("may be read by others (rw-r--r--); chmod 600 " + pw));
        assertEquals(3, run("device", "list", "--db", "jdbc:h2:file:" + data.resolve("x"), "--db-password-file",
                data.resolve("missing").toString()));
    }

    @Test
    public void usageErrorsAreOneLineAndExitTwo() {
        assertEquals(2, run("device", "register", "--id", "x"));
        assertEquals("tollgate-billing device register: Missing required option: '--public-key=FILE.pem' "
                + "(try 'tollgate-billing device register --help')\n", err());
        assertEquals(2, run("launch"));
        assertEquals("tollgate-billing: unknown command 'launch'; one of: run, device, token, license, broker-config, cloud, version, "
                + "help "
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
        Path missing = tmp.getRoot().toPath().resolve("missing.pem");
        assertEquals(3, run("device", "register", "--id", "x", "--public-key", missing.toString(), "--data",
                tmp.getRoot().toString()));
        assertEquals("tollgate-billing device register: cannot read --public-key " + missing + ": no such file or "
                + "directory\n", err());
    }

    @Test
    public void runChecksEveryValueBeforeItConnects() throws Exception {
        String data = tmp.newFolder("data").toString();
        String[][] cases = {
            {"--http-port", "99999", "--http-port must be from 0 to 65535, or -1 for no HTTP API, not 99999"},
            {"--http-port", "-2", "--http-port must be from 0 to 65535, or -1 for no HTTP API, not -2"},
            {"--embedded-broker", "0", "--embedded-broker must be a port from 1 to 65535, not 0"},
            {"--embedded-broker", "65536", "--embedded-broker must be a port from 1 to 65535, not 65536"},
            {"--mqtt", "tcp://broker:99999", "--mqtt must be none or look like tcp://127.0.0.1:1883 or "
                    + "ssl://broker:8883, not \"tcp://broker:99999\""},
            {"--mqtt", "broker:1883", "--mqtt must be none"},
            {"--mqtt", "tcp://broker:1883/x", "--mqtt must be none"},
            {"--mqtt", "", "--mqtt must be none"},
            {"--client-id", "a b", "--client-id must be 1 to 128 printable ASCII characters without spaces, not \"a b\""},
            {"--http-host", "", "--http-host must be a host name or address, not \"\""},
            {"--prices", "", "--prices must not be empty"},
        };
        for (String[] c : cases) {
            // a broker that is not there: had anything connected, the error would be another one
            String[] args = "--mqtt".equals(c[0]) ? new String[] {"run", "--data", data, c[0], c[1]}
                    : new String[] {"run", "--data", data, "--mqtt", "tcp://127.0.0.1:1", c[0], c[1]};
            assertEquals(c[0] + " " + c[1] + ": " + err(), 2, run(args));
            assertTrue(err(), err().startsWith("tollgate-billing run: " + c[2]));
            assertEquals(err(), 1, err().lines().count());
        }
        Path prices = tmp.getRoot().toPath().resolve("prices.json");
        assertEquals(3, run("run", "--data", data, "--mqtt", "tcp://127.0.0.1:1", "--prices", prices.toString()));
        assertEquals("tollgate-billing run: cannot read --prices " + prices + ": no such file\n", err());
    }

    @Test
    public void emptyPathsAreUsageErrorsAndADataFileIsRefused() throws Exception {
        Path file = tmp.newFile("afile").toPath();
        List<List<String>> commands = List.of(List.of("device", "list"), List.of("cloud", "pubkey"),
                List.of("run", "--mqtt", "none"), List.of("device", "register", "--id", "x", "--public-key", "k.pem"));
        for (List<String> command : commands) {
            String name = ("tollgate-billing " + command.get(0) + " " + command.get(1)).replace(" --mqtt", "");
            List<String> args = new java.util.ArrayList<>(command);
            args.addAll(List.of("--data", ""));
            assertEquals(command.toString(), 2, run(args.toArray(new String[0])));
            assertEquals(name + ": --data must not be empty (try '" + name + " --help')\n", err());
            args.set(args.size() - 1, file.toString());
            assertEquals(command.toString(), 3, run(args.toArray(new String[0])));
            assertEquals(name + ": --data " + file + " is a file, not a directory\n", err());
        }
        assertEquals(2, run("device", "register", "--id", "x", "--public-key", "", "--data", tmp.getRoot().toString()));
        assertTrue(err(), err().contains("--public-key must not be empty"));
    }

    @Test
    public void deviceIdsFollowTheAppliancesRule() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        Path pem = tmp.newFile("device.pub.pem").toPath();
        Files.writeString(pem, TestRecordWriter.newDevice().publicPem());
        for (String bad : new String[] {"bad\nid", "x y", "", "-x", "a/b", "x".repeat(65), "tab\tid"}) {
            assertEquals(bad, 2, run("device", "register", "--id", bad, "--public-key", pem.toString(), "--data",
                    data.toString()));
            assertEquals(err(), 1, err().lines().count());
            assertTrue(err(), err().startsWith("tollgate-billing device register: --id \""));
            assertTrue(err(), err().contains("is not a device id: 1 to 64 characters from A-Z a-z 0-9 . _ : -"));
        }
        assertTrue(err(), err().contains("--id \"tab\\tid\""));
        for (String good : new String[] {"tg-06e3fd8fda29bb60", "line7.cam-2:a_b", "x".repeat(64)}) {
            assertEquals(good + ": " + err(), 0, run("device", "register", "--id", good, "--public-key", pem.toString(),
                    "--data", data.toString()));
            if (good.contains(":")) {
                assertEquals("registered " + good + "\n", out());
                assertTrue(err(), err().contains("no broker password for " + good));
            }
        }
    }

    @Test
    public void readOnlyCommandsDoNotCreateALedger() throws Exception {
        Path missing = tmp.getRoot().toPath().resolve("nonexistent");
        assertEquals(3, run("device", "list", "--data", missing.toString()));
        assertEquals("tollgate-billing device list: no ledger at " + missing.resolve("ledger.mv.db") + "; give the "
                + "billing endpoint's data folder (--data) or its database (--db)\n", err());
        assertEquals("", out());
        assertTrue("nothing created", !Files.exists(missing));
        Path empty = tmp.newFolder("empty").toPath();
        assertEquals(3, run("device", "list", "--data", empty.toString()));
        try (Stream<Path> files = Files.list(empty)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    public void everyCommandAnswersHelpAndTheTopLevelListsThem() {
        List<List<String>> commands = List.of(List.of(), List.of("run"), List.of("device"), List.of("device", "register"),
                List.of("device", "list"), List.of("token"), List.of("token", "create"), List.of("token", "list"),
                List.of("token", "revoke"), List.of("broker-config"), List.of("cloud"), List.of("cloud", "pubkey"),
                List.of("version"), List.of("help"));
        for (List<String> command : commands) {
            String[] args = Stream.concat(command.stream(), Stream.of("--help")).toArray(String[]::new);
            assertEquals(command + ": " + err(), 0, run(args));
            assertTrue(command + ": " + out(), out().startsWith(("Usage: tollgate-billing " + String.join(" ", command)).trim()));
        }
        assertEquals(0, run("--help"));
        for (String leaf : List.of("run", "device register", "device list", "token create", "token list",
                "token revoke", "broker-config", "cloud pubkey", "version", "help")) {
            assertTrue(leaf + " in\n" + out(), out().contains("\n  " + leaf + " "));
        }
    }

    @Test
    public void theHelpNamesThisToolAndItsExitCodesFitTheScreen() {
        assertEquals(0, run("--help"));
        String help = out();
        assertTrue(help, help.replaceAll("\\s+", " ").contains("Show the help of tollgate-billing or of one of its "
                + "commands, e.g. 'tollgate-billing help COMMAND'"));
        String table = help.substring(help.indexOf("Exit codes:"));
        for (String line : table.lines().skip(1).toList()) {
            assertTrue("indented, not wrapped: '" + line + "' in\n" + table, line.startsWith("  "));
        }
        assertTrue(table, table.contains("  3    files missing or unreadable") && table.contains("  143  "));
    }

    @Test
    public void versionIsTheProjectVersion() {
        String expected = "tollgate-billing " + System.getProperty("tollgate.project.version") + "\n";
        assertEquals(0, run("version"));
        assertEquals(expected, out());
        assertEquals(0, run("--version"));
        assertEquals(expected, out());
    }

    @Test
    public void licenseImportListPushAndRevokePush() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        TestRecordWriter w = TestRecordWriter.newDevice();
        Path pem = tmp.newFile("device.pub.pem").toPath();
        Files.writeString(pem, w.publicPem());
        assertEquals(err(), 0, run("device", "register", "--id", w.deviceId(), "--public-key", pem.toString(),
                "--tenant", "acme", "--data", data.toString()));
        java.security.KeyPair vendor = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path vendorPem = tmp.getRoot().toPath().resolve("vendor-public.pem");
        Files.writeString(vendorPem, io.tollgate.licensing.Pem.encode(vendor.getPublic()));
        Path bound = tmp.getRoot().toPath().resolve("bound.lic");
        Files.write(bound, new io.tollgate.licensing.vendor.LicenseIssuer("Acme", vendor.getPrivate(),
                vendor.getPublic()).id("lic-bound").tenant("acme").plugin("fashion-mnist")
                .device(w.deviceId(), "ef".repeat(32)).quota(50L, "inference").issue());
        Path free = tmp.getRoot().toPath().resolve("free.lic");
        Files.write(free, new io.tollgate.licensing.vendor.LicenseIssuer("Acme", vendor.getPrivate(),
                vendor.getPublic()).id("lic-free").tenant("acme").plugin("fashion-mnist").issue());

        assertEquals(err(), 0, run("license", "import", bound.toString(), free.toString(), "--vendor",
                vendorPem.toString(), "--data", data.toString()));
        assertEquals("imported lic-bound\tacme\tfashion-mnist\tdevice=" + w.deviceId() + " (queued for it)\tverified\n"
                + "imported lic-free\tacme\tfashion-mnist\tunbound\tverified\n", out());
        assertEquals(0, run("license", "import", free.toString(), "--data", data.toString()));
        assertTrue(out(), out().startsWith("unchanged lic-free"));
        assertTrue(err(), err().contains("the operator vouches"));

        // another vendor's key: refused, nothing imported
        java.security.KeyPair other = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path otherPem = tmp.getRoot().toPath().resolve("other.pem");
        Files.writeString(otherPem, io.tollgate.licensing.Pem.encode(other.getPublic()));
        Path third = tmp.getRoot().toPath().resolve("third.lic");
        Files.write(third, new io.tollgate.licensing.vendor.LicenseIssuer("Acme", vendor.getPrivate(),
                vendor.getPublic()).id("lic-third").tenant("acme").plugin("x").issue());
        assertEquals(1, run("license", "import", third.toString(), "--vendor", otherPem.toString(), "--data",
                data.toString()));
        assertTrue(err(), err().contains("is not an importable license: unknown vendor"));
        assertEquals(3, run("license", "import", tmp.getRoot().toPath().resolve("missing.lic").toString(), "--data",
                data.toString()));

        assertEquals(0, run("license", "push", "--device", w.deviceId(), "lic-free", "--data", data.toString()));
        assertEquals("queued lic-free for " + w.deviceId() + "\n", out());
        assertEquals(1, run("license", "push", "--device", "tg-unknown", "lic-free", "--data", data.toString()));
        assertTrue(err(), err().contains("no registered device tg-unknown"));

        assertEquals(0, run("license", "list", "--data", data.toString()));
        List<String> rows = out().lines().toList();
        assertEquals(2, rows.size());
        assertEquals("lic-bound\tacme\tfashion-mnist\t0.0.0\t" + w.deviceId() + "\tquota=50\tinference\tnever"
                + "\tverified\t" + w.deviceId() + ":pending", rows.get(0));
        assertTrue(rows.get(1), rows.get(1).startsWith("lic-free\tacme\tfashion-mnist\t0.0.0\t*\tunlimited"));

        Path rev = tmp.getRoot().toPath().resolve("r.revocations");
        Files.write(rev, io.tollgate.licensing.vendor.RevocationIssuer.issue(vendor.getPrivate(), vendor.getPublic(),
                List.of("lic-free"), null));
        assertEquals(err(), 0, run("license", "revoke-push", rev.toString(), "--all", "--vendor",
                vendorPem.toString(), "--data", data.toString()));
        assertEquals("queued r.revocations (1 revoked) for " + w.deviceId() + "\n", out());
        assertEquals(2, run("license", "revoke-push", rev.toString(), "--data", data.toString()));
        assertEquals(1, run("license", "revoke-push", bound.toString(), "--all", "--data", data.toString()));
        assertTrue(err(), err().contains("is not a revocation list"));
        try (Database db = Database.open(Database.defaultUrl(data))) {
            assertEquals(3, new io.tollgate.cloud.ledger.Licenses(db).pending(10).size());
        }
    }
}
