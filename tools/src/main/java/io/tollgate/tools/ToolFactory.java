package io.tollgate.tools;

import java.lang.reflect.Constructor;
import picocli.CommandLine;
import picocli.CommandLine.IFactory;

/** Creates commands, giving those that take a {@link ToolOutput} in their constructor the tool's streams. */
final class ToolFactory implements IFactory {
    private final ToolOutput io;

    ToolFactory(ToolOutput io) {
        this.io = io;
    }

    @Override
    public <K> K create(Class<K> cls) throws Exception {
        Constructor<K> withOutput;
        try {
            withOutput = cls.getConstructor(ToolOutput.class);
        } catch (NoSuchMethodException e) {
            return CommandLine.defaultFactory().create(cls);
        }
        return withOutput.newInstance(io);
    }
}
