package io.tollgate.cloud.cli;

import io.tollgate.cloud.BillingException;
import io.tollgate.cloud.ledger.LedgerException;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolException;
import io.tollgate.tools.ToolCommand;
import java.io.IOException;
import picocli.CommandLine.Mixin;

/**
 * A billing command: it works on a data folder ({@link DataOptions}); a ledger, broker, key or
 * file problem is a failure with exit code 1 and its message (no separate code for unreadable files, unlike
 * bin/tollgate's 3).
 */
abstract class BillingWork extends ToolCommand {
    @Mixin
    DataOptions data;

    @Override
    public final Integer call() throws ToolException, InterruptedException {
        try {
            return work();
        } catch (LedgerException | BillingException | IOException e) {
            throw new ToolException(ExitCodes.FAILED, e.getMessage(), e);
        }
    }

    /** Does the command; returns its exit code. */
    abstract int work() throws LedgerException, BillingException, IOException, InterruptedException;
}
