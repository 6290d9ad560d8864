package io.tollgate.bench.sync;

import io.tollgate.cloud.ledger.BatchIngest;
import io.tollgate.cloud.ledger.Database;
import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.record.Batch;
import io.tollgate.cloud.record.BatchDecoder;
import io.tollgate.cloud.record.RecordDecoder;
import io.tollgate.metering.DeviceIdentity;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import io.tollgate.metering.testing.TestJournal;
import io.tollgate.sync.testing.TestUplink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The drain's stages one at a time, each on one thread, no broker: where a record's time goes. The journal and the
 * sender's batch encoder are the real ones, from metering's and sync's test-jar fixtures ({@link TestJournal},
 * {@link TestUplink#batchEncoder}).
 *
 * <pre>java ${chronicle.opens} -cp 'target/classes:target/lib/*' io.tollgate.bench.sync.StageBench [records] [h2|postgres]</pre>
 */
public final class StageBench {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 300_000;
        String db = args.length > 1 ? args[1] : "h2";
        Path dir = Files.createTempDirectory("sync-stages");
        String pgDb = null;
        try {
            List<byte[]> batches = new ArrayList<>();
            long last;
            DeviceIdentity key;
            try (TestJournal device = TestJournal.production(dir).syncMode("NONE").diskBudgetBytes(8L << 30).open()) {
                key = device.device();
                UsageJournal journal = device.journal();
                Random random = new Random(1);
                String[] tenants = {"acme", "mueller-gmbh", "northwind", "globex-industrial"};
                String[] models = {"fashion-mnist", "ppocr-det", "minilm-l6"};
                for (int i = 0; i < n; i++) {
                    String model = models[i % 7 == 0 ? 1 : i % 11 == 0 ? 2 : 0];
                    journal.append(new UsageEvent(tenants[random.nextInt(10) < 7 ? 0 : 1 + random.nextInt(3)], model,
                            "1.0.0", "io.tollgate.plugin." + model, "1.0.0", "", "inference", 1 + random.nextInt(8),
                            200_000L + random.nextInt(3_000_000), "cpu",
                            new UUID(random.nextLong(), random.nextLong()).toString(), "OK"));
                }
                Thread.sleep(1500);
                last = journal.status().lastSeq();
                // warm-up pass, then the timed pass: journal read + encoding 2 in batches of 2000 (the defaults)
                for (int pass = 0; pass < 2; pass++) {
                    batches.clear();
                    Function<List<UsageRecord>, byte[]> encoder = TestUplink.batchEncoder(2);  // deflate, hash elision
                    long t0 = System.nanoTime();
                    long readNs = 0;
                    for (long seq = 1; seq <= last; ) {
                        long r0 = System.nanoTime();
                        List<UsageRecord> rs = journal.readFrom(seq, 2000);
                        readNs += System.nanoTime() - r0;
                        batches.add(encoder.apply(rs));
                        seq += rs.size();
                    }
                    long ns = System.nanoTime() - t0;
                    if (pass == 1) {
                        report("device: journal readFrom", last, readNs);
                        report("device: readFrom + encode (deflate, hash elision)", last, ns);
                    }
                }
            }
            for (int pass = 0; pass < 2; pass++) {
                long t0 = System.nanoTime();
                long count = 0;
                for (byte[] b : batches) {
                    Batch batch = BatchDecoder.decode(b);
                    for (byte[] r : batch.records()) {
                        RecordDecoder.decode(r);
                        count++;
                    }
                }
                if (pass == 1) {
                    report("cloud: batch inflate + record decode (SHA-256), no DB", count, System.nanoTime() - t0);
                }
            }
            String url;
            if (db.equals("postgres")) {
                pgDb = "tollgate_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
                admin("CREATE DATABASE " + pgDb);
                url = "jdbc:postgresql://127.0.0.1:5432/" + pgDb + "?user=postgres";
            } else {
                url = Database.defaultUrl(dir.resolve("cloud"));
            }
            Database database = Database.open(url);
            try {
                new Ledger(database).registerDevice(key.deviceId(), key.publicKeyPem(),
                        java.util.Set.of("acme", "mueller-gmbh", "northwind", "globex-industrial"));
                BatchIngest ingest = new BatchIngest(database);
                long t0 = System.nanoTime();
                long head = 0;
                for (byte[] b : batches) {
                    head = ingest.ingest(key.deviceId(), b).ackedSeq();
                }
                if (head != last - 1) { // the journal ends with a seal, which only a later seal would cover
                    throw new IllegalStateException("ledger head " + head + " but the journal's last seal covers "
                            + (last - 1));
                }
                report("cloud: BatchIngest.ingest (decode, verify, insert, commit) into " + db, last,
                        System.nanoTime() - t0);
            } finally {
                database.close();
            }
        } finally {
            if (pgDb != null) {
                admin("DROP DATABASE IF EXISTS " + pgDb + " WITH (FORCE)");
            }
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void report(String what, long records, long ns) {
        System.out.printf(Locale.ROOT, "%-75s %,9d records in %6.2f s = %,9.0f records/s (%.1f us/record)%n", what,
                records, ns / 1e9, records / (ns / 1e9), ns / 1e3 / records);
    }

    private static void admin(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres");
             Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
