package io.tollgate.cloud.cli;

import io.tollgate.cloud.BillingException;
import io.tollgate.cloud.ledger.LedgerException;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.PathValues;
import io.tollgate.tools.ToolException;
import io.tollgate.tools.ToolCommand;
import java.io.IOException;
import picocli.CommandLine.Mixin;

/**
 * A billing command: it works on a data folder ({@link DataOptions}); a ledger, broker, key or
 * file problem is a failure with exit code 1 and its message; a --data that is a file, a missing ledger for a
 * command that only reads, or an input file that cannot be read is exit 3 (as bin/tollgate's).
 */
abstract class BillingWork extends ToolCommand {
    @Mixin
    DataOptions data;

    @Override
    public final Integer call() throws ToolException, InterruptedException {
        PathValues.notAFile("--data", data.dataDir());
        try {
            return work();
        } catch (LedgerException | BillingException | IOException e) {
            throw new ToolException(ExitCodes.FAILED, e.getMessage(), e);
        }
    }

    /** Does the command; returns its exit code. */
    abstract int work() throws ToolException, LedgerException, BillingException, IOException, InterruptedException;
}
