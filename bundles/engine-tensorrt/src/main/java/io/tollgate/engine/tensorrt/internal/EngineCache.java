package io.tollgate.engine.tensorrt.internal;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serialized TensorRT engines on disk ({@code data/engines/} by default), one file per {@link EngineCacheKey}.
 * Written to a temporary file and moved into place, so a build cut off by a power loss never leaves a truncated
 * plan that a later start would try to deserialize.
 */
final class EngineCache {
    private static final Logger LOG = LoggerFactory.getLogger(EngineCache.class);

    private final Path directory;

    EngineCache(Path directory) {
        this.directory = directory;
    }

    Path directory() {
        return directory;
    }

    /** The cached plan of {@code key}, if one was built before. */
    Optional<byte[]> get(EngineCacheKey key) {
        Path file = directory.resolve(key.fileName());
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readAllBytes(file));
        } catch (IOException e) {
            LOG.warn("cannot read cached TensorRT engine {} ({}); building it again", file, e.toString());
            return Optional.empty();
        }
    }

    /** Stores {@code plan} under {@code key}; a failure is logged and the engine simply rebuilds next time. */
    Path put(EngineCacheKey key, byte[] plan) {
        Path file = directory.resolve(key.fileName());
        try {
            Files.createDirectories(directory);
            Path tmp = Files.createTempFile(directory, key.fileName(), ".tmp");
            Files.write(tmp, plan);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            LOG.warn("cannot store the TensorRT engine in {} ({}); it is built again on the next load", file,
                    e.toString());
        }
        return file;
    }
}
