package io.tollgate.metering.internal;

import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.files.UsageTotals;
import io.tollgate.metering.internal.RecordFormat.Decoded;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Usage totals per tenant, model and meter over a time range [from, to), from the journal's usage records. */
public final class UsageSummary {
    private record Key(String tenant, String model, String meter) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = tenant.compareTo(o.tenant);
            c = c != 0 ? c : model.compareTo(o.model);
            return c != 0 ? c : meter.compareTo(o.meter);
        }
    }

    private static final class Totals {
        long requests;
        long quantity;
        long computeNanos;
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
    }

    private final long fromNanos;
    private final long toNanos;
    private final TreeMap<Key, Totals> groups = new TreeMap<>();

    /** {@code from} inclusive and {@code to} exclusive; null for open ends. */
    public UsageSummary(Instant from, Instant to) {
        this.fromNanos = from == null ? Long.MIN_VALUE : nanos(from);
        this.toNanos = to == null ? Long.MAX_VALUE : nanos(to);
    }

    static long nanos(Instant i) {
        return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000_000L), i.getNano());
    }

    public static Instant instant(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
    }

    /** Adds one record (records of other kinds and outside the range are skipped). */
    public void add(Decoded d) {
        if (d.kind() != RecordFormat.KIND_USAGE || d.wallTimeNanos() < fromNanos || d.wallTimeNanos() >= toNanos) {
            return;
        }
        UsageEvent e = d.usage();
        Totals t = groups.computeIfAbsent(new Key(e.tenant(), e.model(), e.meter()), k -> new Totals());
        t.requests++;
        t.quantity += e.quantity();
        t.computeNanos += e.computeNanos();
        t.first = Math.min(t.first, d.wallTimeNanos());
        t.last = Math.max(t.last, d.wallTimeNanos());
    }

    public List<UsageTotals> rows() {
        List<UsageTotals> out = new ArrayList<>();
        for (Map.Entry<Key, Totals> e : groups.entrySet()) {
            Totals t = e.getValue();
            out.add(new UsageTotals(e.getKey().tenant, e.getKey().model, e.getKey().meter, t.requests, t.quantity,
                    t.computeNanos, instant(t.first), instant(t.last)));
        }
        return out;
    }

    /** Summarises the journal in {@code journalDir}. */
    public static List<UsageTotals> of(Path journalDir, Instant from, Instant to) throws IOException {
        UsageSummary s = new UsageSummary(from, to);
        JournalReader.forEach(journalDir, bytes -> {
            s.add(RecordFormat.decode(bytes));
            return true;
        });
        return s.rows();
    }
}
