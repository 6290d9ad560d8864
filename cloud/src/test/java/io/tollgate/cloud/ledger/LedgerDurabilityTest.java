package io.tollgate.cloud.ledger;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.cloud.TestRecordWriter;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The embedded H2 ledger across processes: a SIGKILL never takes back a commit that {@link BatchIngest#ingest}
 * returned (the ack goes out right after it; issue 9: with H2's default write delay a device was acked to 1080 and
 * the ledger held 816), and a second process gets a clear "in use" error instead of H2's server mode.
 */
public class LedgerDurabilityTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /** The child: opens the ledger and ingests sealed batches of one device forever, printing each acked seq. */
    public static void main(String[] args) throws Exception {
        try (Database db = Database.open(args[0])) {
            TestRecordWriter w = TestRecordWriter.newDevice();
            new Ledger(db).registerDevice(w.deviceId(), w.publicPem(), java.util.Set.of("acme"));
            BatchIngest ingest = new BatchIngest(db);
            List<byte[]> first = new ArrayList<>(List.of(w.start(0), w.seal(4)));
            ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 1, first));
            while (true) {
                long from = w.seq() + 1;
                List<byte[]> records = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    records.add(w.usage("acme", "fashion-mnist", "inference", 1));
                }
                records.add(w.seal(1));
                IngestResult r = ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, from, records));
                System.out.println(r.ackedSeq()); // what the billing service would ack now
                System.out.flush();
            }
        }
    }

    @Test
    public void aSigkillNeverTakesBackAnAckedCommitAndASecondProcessIsToldTheLedgerIsInUse() throws Exception {
        Path dir = tmp.newFolder("data").toPath();
        String url = Database.defaultUrl(dir);
        Process child = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), LedgerDurabilityTest.class.getName(), url)
                .redirectError(tmp.newFile("child.err")).start();
        long acked = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.US_ASCII))) {
            int lines = 0;
            String line;
            while (lines < 200 && (line = out.readLine()) != null) {
                acked = Long.parseLong(line.trim());
                lines++;
            }
            assertTrue("the child ingests (see child.err)", lines == 200);
            try {
                Database.open(url).close();
                fail("a second process opened the ledger the service holds");
            } catch (LedgerException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("the ledger is in use by a running "
                        + "tollgate-billing; stop it or use its HTTP API (the file lock on " + dir.toAbsolutePath()
                        + "/ledger.mv.db is held)"));
            }
            // SIGKILL mid-stream, from outside: Process.destroyForcibly would also close our end of its stdout
            Process kill = new ProcessBuilder("kill", "-9", Long.toString(child.pid())).start();
            assertEquals(0, kill.waitFor());
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            while ((line = out.readLine()) != null) { // what it printed before it died was acked too
                if (!line.isBlank()) {
                    acked = Long.parseLong(line.trim());
                }
            }
        } finally {
            child.destroyForcibly();
        }
        try (Database db = Database.open(url); Connection c = db.connect(); Statement st = c.createStatement()) {
            DeviceInfo d = new Ledger(db).devices().get(0);
            assertTrue("acked " + acked + " but the ledger holds " + d.headSeq(), d.headSeq() >= acked);
            try (ResultSet rs = st.executeQuery("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS "
                    + "WHERE SETTING_NAME = 'WRITE_DELAY'")) {
                assertTrue(rs.next());
                assertEquals("0", rs.getString(1));
            }
        }
    }
}
