package io.tollgate.tools.sync;

import io.tollgate.tools.DataDirOption;
import io.tollgate.tools.ToolOutput;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code tollgate sync status}: what has reached the cloud, read offline from the data directory. */
@Command(name = "sync", description = "What the usage uplink has delivered to the cloud.",
        subcommands = SyncCommand.Status.class)
public final class SyncCommand {

    /** {@code sync status}. */
    @Command(name = "status", description = {
        "The ack cursor (DIR/sync/acked-seq) and, from the journal, its seq range, the backlog and the oldest "
                + "unacknowledged record; offline, safe while the appliance runs."})
    public static final class Status implements Callable<Integer> {
        @Mixin
        private DataDirOption data;

        private final ToolOutput io;

        public Status(ToolOutput io) {
            this.io = io;
        }

        @Override
        public Integer call() throws Exception {
            return SyncStatusReport.print(data.resolve(), io.out());
        }
    }
}
