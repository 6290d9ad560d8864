package io.tollgate.metering.internal;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;
import net.openhft.chronicle.core.time.SystemTimeProvider;
import net.openhft.chronicle.core.time.TimeProvider;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;

/**
 * Validated journal settings. {@code chronicleTime} decides which roll cycle (file) a record lands in;
 * tests replace it to roll files on demand. {@code clock} gives the records' wall time.
 */
public record JournalOptions(Path directory, long diskBudgetBytes, int sealEveryRecords, long sealEveryMs,
                             JournalSync sync, RollCycle rollCycle, TimeProvider chronicleTime, Clock clock,
                             long diskReserveBytes) {
    /** Smallest {@code disk.reserve.bytes}: the pretoucher's 1 MiB ahead plus a new file's index area, with room. */
    public static final long MIN_DISK_RESERVE_BYTES = 2L << 20;
    /** Default {@code disk.reserve.bytes}. */
    public static final long DEFAULT_DISK_RESERVE_BYTES = 16L << 20;

    public JournalOptions {
        if (diskBudgetBytes < 1 << 20) {
            throw new IllegalArgumentException("disk.budget.bytes must be at least 1 MiB (1048576) but is "
                    + diskBudgetBytes);
        }
        if (diskReserveBytes < MIN_DISK_RESERVE_BYTES) {
            throw new IllegalArgumentException("disk.reserve.bytes must be at least 2 MiB (" + MIN_DISK_RESERVE_BYTES
                    + ") but is " + diskReserveBytes);
        }
        if (sealEveryRecords < 1) {
            throw new IllegalArgumentException("seal.every.records must be >= 1 but is " + sealEveryRecords);
        }
        if (sealEveryMs < 1) {
            throw new IllegalArgumentException("seal.every.ms must be >= 1 but is " + sealEveryMs);
        }
    }

    /** Defaults for {@code directory}: 2 GiB, 256 records, 1000 ms, BATCH, FAST_HOURLY, 16 MiB reserve. */
    public static JournalOptions defaults(Path directory) {
        return new JournalOptions(directory, 2L << 30, 256, 1000, JournalSync.BATCH, RollCycles.FAST_HOURLY,
                SystemTimeProvider.INSTANCE, Clock.systemUTC(), DEFAULT_DISK_RESERVE_BYTES);
    }

    static JournalOptions from(JournalConfig c) {
        return new JournalOptions(DataPaths.resolve(c.directory(), "usage"), c.disk_budget_bytes(),
                c.seal_every_records(), c.seal_every_ms(), JournalSync.parse(c.sync_mode()),
                parseRollCycle(c.roll_cycle()), SystemTimeProvider.INSTANCE, Clock.systemUTC(), c.disk_reserve_bytes());
    }

    static RollCycle parseRollCycle(String name) {
        try {
            return RollCycles.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("roll.cycle '" + name + "' is not a Chronicle RollCycles name "
                    + "(e.g. FAST_HOURLY, FAST_DAILY, HALF_HOURLY)");
        }
    }

    public JournalOptions withBudget(long bytes) {
        return new JournalOptions(directory, bytes, sealEveryRecords, sealEveryMs, sync, rollCycle, chronicleTime, clock, diskReserveBytes);
    }

    public JournalOptions withSeals(int records, long ms) {
        return new JournalOptions(directory, diskBudgetBytes, records, ms, sync, rollCycle, chronicleTime, clock, diskReserveBytes);
    }

    public JournalOptions withSync(JournalSync s) {
        return new JournalOptions(directory, diskBudgetBytes, sealEveryRecords, sealEveryMs, s, rollCycle, chronicleTime,
                clock, diskReserveBytes);
    }

    public JournalOptions withRollCycle(RollCycle rc, TimeProvider time) {
        return new JournalOptions(directory, diskBudgetBytes, sealEveryRecords, sealEveryMs, sync, rc, time, clock, diskReserveBytes);
    }

    public JournalOptions withDiskReserve(long bytes) {
        return new JournalOptions(directory, diskBudgetBytes, sealEveryRecords, sealEveryMs, sync, rollCycle,
                chronicleTime, clock, bytes);
    }
}
