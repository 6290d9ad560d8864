package io.tollgate.tools;

import java.nio.file.Path;
import picocli.CommandLine.Mixin;

/** A command that works on an appliance's data directory ({@code --data DIR}). */
public abstract class DataCommand extends ToolCommand {
    @Mixin
    private DataDirOption data;

    /** The data directory: {@code --data}, else the default ({@link DataDirOption#resolve()}). */
    protected final Path data() {
        return data.resolve();
    }
}
