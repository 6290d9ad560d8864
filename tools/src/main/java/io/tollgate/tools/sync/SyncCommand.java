package io.tollgate.tools.sync;

import io.tollgate.tools.DataCommand;
import picocli.CommandLine.Command;

/** {@code tollgate sync status}: what has reached the cloud, read offline from the data directory. */
@Command(name = "sync", description = "What the usage uplink has delivered to the cloud.",
        subcommands = SyncCommand.Status.class)
public final class SyncCommand {

    /** {@code sync status}. */
    @Command(name = "status", description = {
        "The ack cursor (DIR/sync/acked-seq) and, from the journal, its seq range, the backlog and the oldest "
                + "unacknowledged record; offline, safe while the appliance runs."})
    public static final class Status extends DataCommand {
        @Override
        public Integer call() throws Exception {
            return SyncStatusReport.print(data(), out());
        }
    }
}
