package io.tollgate.serving.internal;

import io.tollgate.licensing.License;
import io.tollgate.licensing.Refusal;
import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import io.tollgate.sync.SyncStatus;
import io.tollgate.sync.SyncStatusProvider;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Offline grace and clock roll-back (docs/licensing.md, "Quotas and expiry on the appliance"), for licenses whose
 * validity depends on time: one with an expiry or a {@code grace_days} limit.
 *
 * <p><b>Clock roll-back:</b> the wall clock reads earlier than the newest time the box has seen, less
 * {@value #ROLLBACK_TOLERANCE_MS} ms: the last usage record's time at start, then the clock itself as {@link #refresh}
 * sees it every second, and the last signed cloud time of the sync uplink less {@value #CLOUD_SKEW_TOLERANCE_MS} ms
 * (the two clocks may disagree a little). Such licenses are refused ({@link Refusal#CLOCK_ROLLBACK}) until the clock
 * has caught up again, which needs no one: the high-water mark does not move while the clock is behind it.
 *
 * <p><b>Offline grace:</b> a license with {@code grace_days} D is refused ({@link Refusal#GRACE_EXPIRED}) while the
 * oldest usage record the cloud has not acknowledged (a verified, signed ack) is older than D days: the box has served
 * that long without the cloud having its records. It serves again by itself once sync catches up. The age comes from
 * the sync bundle's status, read once a second; without a sync bundle such licenses are refused, saying so.
 *
 * <p>Threads: {@link #refresh} on the lifecycle thread (every second); {@link #refusal} on request threads (volatile
 * reads and comparisons only).
 */
final class OfflineChecks {
    private static final Logger LOG = LoggerFactory.getLogger(OfflineChecks.class);
    static final long ROLLBACK_TOLERANCE_MS = 2_000;
    static final long CLOUD_SKEW_TOLERANCE_MS = 5 * 60_000;
    static final long REFRESH_MS = 1_000;
    /**
     * How many of the journal's last records the start-up high-water mark looks at: the journal writes its own
     * records when it opens (with the clock of this run, possibly turned back), so the newest time the box has seen
     * is the latest of the last few records, not the last one's (LicenseClockIT found it).
     */
    static final int LAST_RECORDS = 64;

    /** What {@link #refresh} read: the newest time seen and the uplink's state. */
    private record Snapshot(long highWaterMs, String highWaterSource, boolean syncPresent, long oldestUnackedAgeMs,
                            long takenAtMs) {
    }

    private final LongSupplier clock;
    private volatile SyncStatusProvider sync;
    private volatile Snapshot snapshot;
    private volatile boolean rollbackLogged;

    OfflineChecks(UsageJournal journal, LongSupplier clock) {
        this.clock = clock;
        long last = 0;
        try {
            long lastSeq = journal.status().lastSeq();
            if (lastSeq > 0) {
                long from = Math.max(Math.max(1, journal.status().firstSeq()), lastSeq - LAST_RECORDS + 1);
                for (UsageRecord r : journal.readFrom(from, LAST_RECORDS)) {
                    last = Math.max(last, r.wallTimeNanos() / 1_000_000);
                }
            }
        } catch (MeteringException | RuntimeException e) {
            LOG.debug("the last usage record's time is not known: {}", e.toString());
        }
        snapshot = new Snapshot(last, "the last usage record", false, 0, clock.getAsLong());
    }

    void sync(SyncStatusProvider p) {
        sync = p;
        refresh();
    }

    void syncGone(SyncStatusProvider p) {
        if (sync == p) {
            sync = null;
        }
        refresh();
    }

    /** Reads the clock and the uplink's state (every {@value #REFRESH_MS} ms on the lifecycle thread). Never throws. */
    void refresh() {
        long now = clock.getAsLong();
        Snapshot old = snapshot;
        long high = old.highWaterMs();
        String source = old.highWaterSource();
        if (now > high) {
            high = now;
            source = "the clock earlier";
        }
        SyncStatusProvider p = sync;
        SyncStatus s = null;
        if (p != null) {
            try {
                s = p.syncStatus();
            } catch (RuntimeException e) {
                s = null;
            }
        }
        if (s != null && s.lastCloudTimeNanos() > 0) {
            long cloud = s.lastCloudTimeNanos() / 1_000_000 - CLOUD_SKEW_TOLERANCE_MS + ROLLBACK_TOLERANCE_MS;
            if (cloud > high) {
                high = cloud;
                source = "the last signed cloud time (less " + CLOUD_SKEW_TOLERANCE_MS / 60_000 + " min)";
            }
        }
        snapshot = new Snapshot(high, source, s != null, s == null ? 0 : s.oldestUnackedAgeMs(), now);
        boolean back = now < high - ROLLBACK_TOLERANCE_MS;
        if (back && !rollbackLogged) {
            rollbackLogged = true;
            LOG.warn("clock rolled back: the wall clock reads {}, earlier than {} ({}); licenses that expire or limit "
                    + "offline grace are refused until the clock is right", Instant.ofEpochMilli(now),
                    Instant.ofEpochMilli(high), source);
        } else if (!back && rollbackLogged) {
            rollbackLogged = false;
            LOG.info("the wall clock is past {} again: time-limited licenses serve again", Instant.ofEpochMilli(high));
        }
    }

    long now() {
        return clock.getAsLong();
    }

    /**
     * Why {@code l} may not serve now for offline reasons, as the full reason (starting with the refusal's words);
     * null when it may. Volatile reads and comparisons only.
     */
    String refusal(License l, long nowMillis) {
        boolean expires = !l.expires().equals(Instant.MAX);
        boolean grace = l.graceDays() != License.UNLIMITED;
        if (!expires && !grace) {
            return null;
        }
        Snapshot s = snapshot;
        if (nowMillis < s.highWaterMs() - ROLLBACK_TOLERANCE_MS) {
            return Refusal.CLOCK_ROLLBACK.words() + ": the wall clock reads " + Instant.ofEpochMilli(nowMillis)
                    + ", " + formatAge(s.highWaterMs() - nowMillis) + " behind " + Instant.ofEpochMilli(s.highWaterMs())
                    + " (" + s.highWaterSource() + "); set the system clock to the right time (e.g. enable NTP): "
                    + "license " + l.id() + " serves again once the clock is past that time, without a restart";
        }
        if (grace) {
            if (!s.syncPresent()) {
                return Refusal.GRACE_EXPIRED.words() + ": license " + l.id() + " allows " + days(l.graceDays())
                        + " without a verified cloud ack, and no usage uplink (the sync bundle) is running to tell; "
                        + "configure usage sync (docs/operations.md)";
            }
            long age = s.oldestUnackedAgeMs() + Math.max(0, nowMillis - s.takenAtMs());
            long limit = TimeUnit.DAYS.toMillis(l.graceDays());
            if (s.oldestUnackedAgeMs() > 0 && age > limit) {
                return Refusal.GRACE_EXPIRED.words() + ": license " + l.id() + " allows " + days(l.graceDays())
                        + " without a verified cloud ack, and the oldest usage record the cloud has not acknowledged is "
                        + formatAge(age) + " old; it serves again, without a restart, once usage sync reaches the "
                        + "cloud: check the uplink to the MQTT broker and the billing service (tollgate_sync_link and "
                        + "tollgate_sync_oldest_unacked_age_seconds in /metrics)";
            }
        }
        return null;
    }

    private static String days(long n) {
        return n == 1 ? "1 day" : n + " days";
    }

    private static String formatAge(long ms) {
        long hours = TimeUnit.MILLISECONDS.toHours(ms);
        return hours >= 48 ? (hours / 24) + " days" : hours >= 1 ? hours + " h" : TimeUnit.MILLISECONDS.toSeconds(ms) + " s";
    }
}
