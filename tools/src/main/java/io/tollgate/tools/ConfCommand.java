package io.tollgate.tools;

import java.nio.file.Path;
import picocli.CommandLine.Mixin;

/** A command that works on an appliance's configuration folder ({@code --conf DIR}). */
public abstract class ConfCommand extends ToolCommand {
    @Mixin
    private ConfDirOption conf;

    /** The configuration folder: {@code --conf}, else the default ({@link ConfDirOption#resolve()}). */
    protected final Path conf() {
        return conf.resolve();
    }
}
