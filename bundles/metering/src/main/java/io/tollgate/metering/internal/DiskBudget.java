package io.tollgate.metering.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.MeteringException.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The journal's disk budget: a warning at 80 % of {@code disk.budget.bytes}, refusal of new usage records at 100 %,
 * and the log lines that say when either starts or stops (docs/usage-records.md, "Disk budget and retention").
 *
 * <p>Threads: {@link #check} and {@link #recheck} are called under the chain lock (appending threads, and
 * retention after it deleted files); the two flags are volatile so that status snapshots may read them anywhere.
 */
final class DiskBudget {
    private static final Logger LOG = LoggerFactory.getLogger(DiskBudget.class);
    static final int WARN_PERCENT = 80;

    private final long budgetBytes;
    private volatile boolean warning;
    private volatile boolean refusing;
    /** The message appends are refused with, while {@link #refusing}. */
    private volatile String refusal;

    DiskBudget(long budgetBytes) {
        this.budgetBytes = budgetBytes;
    }

    long budgetBytes() {
        return budgetBytes;
    }

    boolean warning() {
        return warning;
    }

    boolean refusing() {
        return refusing;
    }

    /** Why appends are refused, or null. */
    String refusal() {
        return refusing ? refusal : null;
    }

    /** Accepts a new usage record when {@code usedBytes} is below the budget, else refuses it. */
    void check(long usedBytes) throws MeteringException {
        if (usedBytes >= budgetBytes) {
            if (!refusing) {
                refusing = true;
                LOG.error("Usage journal at its disk budget ({} of {} bytes): refusing new usage records until the "
                        + "cloud acknowledges and old files are deleted, or disk.budget.bytes is raised", usedBytes,
                        budgetBytes);
            }
            String message = "usage journal is at its disk budget (" + usedBytes + " of " + budgetBytes
                    + " bytes); free space or raise disk.budget.bytes in configuration io.tollgate.metering.journal";
            refusal = message;
            throw new MeteringException(Reason.DISK_BUDGET_EXCEEDED, message);
        }
        if (refusing) {
            refusing = false;
            LOG.info("Usage journal below its disk budget again ({} of {} bytes): accepting usage records", usedBytes,
                    budgetBytes);
        }
        boolean warn = usedBytes * 100 >= budgetBytes * WARN_PERCENT;
        if (warn != warning) {
            warning = warn;
            if (warn) {
                LOG.warn("Usage journal uses {} of its {} byte disk budget (>= {}%); at 100% the appliance refuses "
                        + "metered requests. Check that usage sync reaches the cloud.", usedBytes, budgetBytes,
                        WARN_PERCENT);
            } else {
                LOG.info("Usage journal back under {}% of its disk budget ({} of {} bytes)", WARN_PERCENT, usedBytes,
                        budgetBytes);
            }
        }
    }

    /** Updates the flags after space was freed, without refusing anything. */
    void recheck(long usedBytes) {
        try {
            check(usedBytes);
        } catch (MeteringException e) {
            // still at the budget: append keeps refusing and says so
        }
    }
}
