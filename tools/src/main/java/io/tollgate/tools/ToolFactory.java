package io.tollgate.tools;

import picocli.CommandLine;
import picocli.CommandLine.IFactory;

/** Creates commands (and mixins, converters) as picocli does, handing each {@link ToolCommand} the tool's streams. */
final class ToolFactory implements IFactory {
    private final ToolOutput io;

    ToolFactory(ToolOutput io) {
        this.io = io;
    }

    @Override
    public <K> K create(Class<K> cls) throws Exception {
        K created = CommandLine.defaultFactory().create(cls);
        if (created instanceof ToolCommand command) {
            command.output(io);
        }
        return created;
    }
}
