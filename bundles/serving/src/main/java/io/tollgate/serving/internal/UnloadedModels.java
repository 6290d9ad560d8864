package io.tollgate.serving.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;
import java.util.TreeSet;

/**
 * The models an operator unloaded (POST /v2/repository/models/{m}/unload), kept in
 * {@code <repository.state.dir>/unloaded.json} ({@code {"unloaded": ["fashion-mnist"]}}) so that a box that restarts
 * does not start serving a model its operator unloaded (decision 2026-11-30 "An unload survives a restart"). Written
 * atomically (a temporary file renamed over it). Without a folder (tests, Pax Exam) the set lives in memory only.
 * Not thread-safe: used under the {@link ServingService}'s repository-control lock.
 */
final class UnloadedModels {
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private final Path file;
    private final Set<String> names = new TreeSet<>();

    /**
     * @param dir the folder, or null to keep nothing
     * @throws IOException when the file is there but cannot be read or is not what this class writes
     */
    UnloadedModels(Path dir) throws IOException {
        this.file = dir == null ? null : dir.resolve("unloaded.json");
        if (file != null && Files.exists(file)) {
            JsonNode root;
            try {
                root = JSON.readTree(file.toFile());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
                throw new IOException(file + " is not valid JSON" + (at == null ? "" : " at line " + at.getLineNr()
                        + ", column " + at.getColumnNr()) + " (" + e.getOriginalMessage() + "); fix or delete it"
                        + " (deleting it loads every installed model)", e);
            }
            JsonNode list = root == null ? null : root.get("unloaded");
            if (list == null || !list.isArray()) {
                throw new IOException(file + " must hold {\"unloaded\": [model names]}; fix or delete it (deleting it"
                        + " loads every installed model)");
            }
            for (JsonNode n : list) {
                if (!n.isTextual()) {
                    throw new IOException(file + ": " + n + " is not a model name");
                }
                names.add(n.textValue());
            }
        }
    }

    Path file() {
        return file;
    }

    Set<String> names() {
        return Set.copyOf(names);
    }

    void add(String name) throws IOException {
        if (names.add(name)) {
            write();
        }
    }

    void remove(String name) throws IOException {
        if (names.remove(name)) {
            write();
        }
    }

    private void write() throws IOException {
        if (file == null) {
            return;
        }
        Files.createDirectories(file.getParent());
        ObjectNode root = JSON.createObjectNode();
        ArrayNode list = root.putArray("unloaded");
        names.forEach(list::add);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
