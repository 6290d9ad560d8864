package io.tollgate.serving.internal;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import io.tollgate.accelerator.AcceleratorKind;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The box owner's model configuration overrides: {@code conf/models/{model}.json} (the folder is
 * {@code models.config.dir} of {@code io.tollgate.serving}), each a partial document in the JSON shape
 * {@code GET /v2/models/{m}/config} returns. A file that is added, changed or removed is applied to the model's
 * versions without a restart, within {@link #POLL_MS} of being written; one that is not valid JSON or breaks a rule
 * ({@link ModelConfigs}) for any version held is refused with one WARN naming the file, the field and the reason, the
 * configuration in force stays, and {@link #problems()} says why (in {@code /admin/plugins}) until the file is fixed
 * or removed. A file may also hold the model's {@code "route"} (hybrid overflow, {@link RouteConfig}): it is taken out
 * of the override, checked with it and put in force in the {@link RouteTable}; removing the file removes the route.
 *
 * <p>Polling, not a {@code WatchService}: one directory listing a second costs nothing, works the same on every file
 * system (a bind mount, an overlay, NFS) and sees a file an editor replaced by renaming. Threads: {@link #scan} runs on
 * the serving lifecycle thread; {@link #override} and {@link #problems} read from any thread.
 */
final class ModelConfigWatch {
    private static final Logger LOG = LoggerFactory.getLogger(ModelConfigWatch.class);
    static final long POLL_MS = 1_000;
    /** An override is a few hundred bytes; a larger file is a mistake, not a configuration. */
    static final long MAX_FILE_BYTES = 1L << 20;
    private static final String SUFFIX = ".json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path dir;
    private final ModelRepository repository;
    /** The models' remote routes ({@code "route"} of a file), or null where nothing routes (tests). */
    private final RouteTable routes;
    /** The kinds of this box's accelerators, for {@link ModelConfigs#checkKinds} (any thread). */
    private final Supplier<Set<AcceleratorKind>> accelerators;
    /** Model name → the override in force. */
    private final Map<String, JsonNode> applied = new ConcurrentHashMap<>();
    /** Model name → why its file was refused (the override before it, if any, stays in force). */
    private final Map<String, String> problems = new ConcurrentHashMap<>();
    /** File name → the bytes last looked at (lifecycle thread). */
    private final Map<String, byte[]> seen = new HashMap<>();
    /**
     * Files refused because their route contradicts another model's route of the same name (url or breaker
     * settings): looked at again when the routes in force change (lifecycle thread).
     */
    private final Set<String> routeConflicts = new HashSet<>();
    private ScheduledFuture<?> task;

    ModelConfigWatch(Path dir, ModelRepository repository) {
        this(dir, repository, null);
    }

    /** As above; a file's {@code "route"} object ({@link RouteConfig}) is put in force in {@code routes}. */
    ModelConfigWatch(Path dir, ModelRepository repository, RouteTable routes) {
        this(dir, repository, routes, () -> EnumSet.of(AcceleratorKind.CPU));
    }

    /**
     * As above; an {@code instance_group} kind the box cannot honour ({@code accelerators}: the kinds of its
     * accelerators, the CPU at least) is refused.
     */
    ModelConfigWatch(Path dir, ModelRepository repository, RouteTable routes,
                     Supplier<Set<AcceleratorKind>> accelerators) {
        this.dir = dir;
        this.repository = repository;
        this.routes = routes;
        this.accelerators = accelerators;
    }

    Path dir() {
        return dir;
    }

    /** Reads the folder once now (before any plugin loads), then every {@link #POLL_MS} on {@code lifecycle}. */
    void start(ScheduledExecutorService lifecycle) {
        scan();
        repository.overrides(this::override);
        LOG.info("model configuration overrides: {} ({} applied{})", dir, applied.size(),
                problems.isEmpty() ? "" : ", refused: " + new TreeMap<>(problems).keySet());
        try {
            task = lifecycle.scheduleWithFixedDelay(this::scanQuietly, POLL_MS, POLL_MS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("serving is stopping; {} is not watched", dir);
        }
    }

    void stop() {
        if (task != null) {
            task.cancel(false);
        }
    }

    /** The override of {@code model} in force, or null. */
    JsonNode override(String model) {
        return applied.get(model);
    }

    /** Model name → why its file was refused. */
    Map<String, String> problems() {
        return Map.copyOf(problems);
    }

    private void scanQuietly() {
        try {
            scan();
        } catch (RuntimeException e) {
            // a housekeeping task never throws out of run: the next poll tries again
            LOG.warn("reading model configuration overrides in {} failed: {}", dir, e.toString(), e);
        }
    }

    /** Applies what changed in the folder since the last scan. */
    void scan() {
        Set<String> present = new HashSet<>();
        Map<String, RemoteRoute> routesBefore = routes == null ? Map.of() : routes.all();
        if (Files.isDirectory(dir)) {
            // in name order: of two files whose routes of one name disagree, the first in force wins at start
            java.util.List<Path> listed = new java.util.ArrayList<>();
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
                for (Path f : files) {
                    listed.add(f);
                }
            } catch (IOException e) {
                LOG.warn("cannot list {}: {}; model configuration overrides stay as they are", dir, e.toString());
                return;
            }
            listed.sort(java.util.Comparator.comparing(f -> f.getFileName().toString()));
            for (Path f : listed) {
                String file = f.getFileName().toString();
                present.add(file);
                look(f, file);
            }
        }
        for (String file : Set.copyOf(seen.keySet())) {
            if (!present.contains(file)) {
                seen.remove(file);
                String model = model(file);
                problems.remove(model);
                if (routes != null) {
                    routes.remove(model);
                }
                if (applied.remove(model) != null) {
                    LOG.info("{} was removed: model '{}' takes its configuration from its plugin again",
                            dir.resolve(file), DescriptorReader.printable(model));
                    repository.reconfigure(model);
                }
            }
        }
        routeConflicts.retainAll(present);
        if (routes != null && !routeConflicts.isEmpty() && !sameRoutes(routesBefore, routes.all())) {
            // a route of the name they contradicted changed or went: they may fit now
            for (String file : new java.util.TreeSet<>(routeConflicts)) {   // in name order, as at start
                routeConflicts.remove(file);
                seen.remove(file);
                look(dir.resolve(file), file);
            }
        }
    }

    private static boolean sameRoutes(Map<String, RemoteRoute> a, Map<String, RemoteRoute> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (Map.Entry<String, RemoteRoute> e : a.entrySet()) {
            if (b.get(e.getKey()) != e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private void look(Path f, String file) {
        byte[] bytes;
        try {
            if (!Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                // A symbolic link could point anywhere (the review linked /etc/shadow): never follow or read one.
                String kind = kind(f);
                byte[] marker = ("not a regular file: " + kind).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                if (Arrays.equals(seen.put(file, marker), marker)) {
                    return;     // refused already as this kind (a link replaced by a folder is refused again)
                }
                refuse(f, model(file), null, "is " + kind + ", not a regular file; write the override as a"
                        + " regular file in " + dir + " (links are not followed)");
                return;
            }
            long size = Files.size(f);
            if (size > MAX_FILE_BYTES) {
                byte[] marker = ("size " + size).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                if (Arrays.equals(seen.put(file, marker), marker)) {
                    return;
                }
                refuse(f, model(file), null, "the file is larger than " + MAX_FILE_BYTES + " bytes; an override holds only"
                        + " the fields it sets");
                return;
            }
            bytes = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            return;     // removed between the listing and the read: the next scan sees it gone
        } catch (IOException e) {
            refuse(f, model(file), null, "cannot be read: " + e);
            return;
        }
        if (Arrays.equals(seen.get(file), bytes)) {
            return;
        }
        seen.put(file, bytes);
        String model = model(file);
        JsonNode doc;
        try {
            doc = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            String duplicate = duplicateField(e);
            if (duplicate != null) {
                // Jackson would keep the last of the two silently: which one the owner meant is theirs to say
                refuse(f, model, duplicate, "field '" + duplicate + "' appears twice" + where + "; keep one");
                return;
            }
            if (e instanceof com.fasterxml.jackson.core.exc.StreamConstraintsException) {
                // valid JSON, but deeper (or longer) than the parser reads: say which limit, not "check the quotes"
                refuse(f, model, null, "too deeply nested or too long to read (" + e.getOriginalMessage()
                        + "); a model configuration is a few levels deep");
                return;
            }
            long end = endOfFirstValue(bytes);
            if (at != null && end >= 0 && at.getByteOffset() >= end) {
                // a whole object, then more (a second object, a note): say so, not "check the quotes"
                refuse(f, model, null, "content after the JSON object" + where + "; a model configuration is one JSON"
                        + " object: remove what follows its closing '}'");
                return;
            }
            // Never quote the file's content (Jackson's message does): the reason goes to /admin/plugins and the log.
            refuse(f, model, null, "not valid JSON" + where + "; check the quotes, commas and braces there");
            return;
        } catch (IOException e) {
            refuse(f, model, null, "cannot be parsed: " + e.getMessage());
            return;
        }
        if (doc == null || doc.isMissingNode()) {
            refuse(f, model, null, "the file is empty; write a JSON object such as {\"max_batch_size\": 8}, or remove"
                    + " the file");
            return;
        }
        RouteConfig route = null;
        try {
            if (doc.isObject() && doc.has("route")) {
                if (routes == null) {
                    throw new ModelConfigs.Fault("route", "field 'route' is not supported here");
                }
                // the route is the box's business, not the model's configuration: /config never shows it
                route = RouteConfig.parse(doc.get("route"), model, confDir());
                doc = ((com.fasterxml.jackson.databind.node.ObjectNode) doc).deepCopy();
                ((com.fasterxml.jackson.databind.node.ObjectNode) doc).remove("route");
            }
            ModelConfigs.checkOverride(doc, model);
            ModelConfigs.checkKinds(doc, accelerators.get());
            repository.checkOverride(model, doc);
            if (routes != null) {
                routes.set(model, route);
            }
        } catch (ModelConfigs.Fault fault) {
            if (route != null && ("route.url".equals(fault.field()) || "route.circuit_breaker".equals(fault.field()))) {
                routeConflicts.add(file);   // RouteTable.set: another model's route of this name disagrees
            }
            refuse(f, model, fault.field(), fault.getMessage());
            return;
        }
        routeConflicts.remove(file);
        applied.put(model, doc);
        problems.remove(model);
        LOG.info("{} applied to model '{}': {}", f, DescriptorReader.printable(model),
                DescriptorReader.printable(doc.toString()));
        repository.reconfigure(model);
    }

    /**
     * The JSON path ({@code dynamic_batching.priority_queue_policy.1}) of the key {@code e} found twice in one object
     * ({@link JsonParser.Feature#STRICT_DUPLICATE_DETECTION}), made printable; null when {@code e} is another fault.
     */
    /** The byte offset just after the first complete JSON value of {@code bytes}, or -1 when it is not one. */
    private static long endOfFirstValue(byte[] bytes) {
        try (com.fasterxml.jackson.core.JsonParser p = JSON.getFactory().createParser(bytes)) {
            if (p.nextToken() == null) {
                return -1;
            }
            p.skipChildren();
            return p.currentLocation().getByteOffset();
        } catch (IOException e) {
            return -1;
        }
    }

    static String duplicateField(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        if (m == null || !m.startsWith("Duplicate field '") || !(e.getProcessor() instanceof JsonParser)) {
            return null;
        }
        java.util.Deque<JsonStreamContext> chain = new java.util.ArrayDeque<>();
        for (JsonStreamContext c = ((JsonParser) e.getProcessor()).getParsingContext(); c != null && !c.inRoot();
                c = c.getParent()) {
            chain.addFirst(c);
        }
        StringBuilder path = new StringBuilder();
        for (JsonStreamContext c : chain) {
            if (c.inArray()) {
                path.append('[').append(Math.max(0, c.getCurrentIndex())).append(']');
            } else {
                path.append(path.length() == 0 ? "" : ".").append(c.getCurrentName() == null ? "" : c.getCurrentName());
            }
        }
        return DescriptorReader.printable(path.toString());
    }

    /** The folder a route's relative file names are resolved against: {@code conf/}, the parent of this one. */
    private Path confDir() {
        Path abs = dir.toAbsolutePath();
        return abs.getParent() == null ? abs : abs.getParent();
    }

    private void refuse(Path f, String model, String field, String reason) {
        String kept = applied.containsKey(model) ? "the configuration applied before stays in force"
                : "the model keeps its plugin's configuration";
        String message = f + " is refused" + (field == null || field.isEmpty() ? "" : " (field '" + field + "')")
                + ": " + reason + "; " + kept;
        problems.put(model, message);
        // the values quoted are already made printable (ModelConfigs); the whole line stays one line, untruncated
        LOG.warn("{}", message.replace('\r', ' ').replace('\n', ' '));
    }

    private static String model(String file) {
        return file.endsWith(SUFFIX) ? file.substring(0, file.length() - SUFFIX.length()) : file;
    }

    /** What {@code f} is instead of a regular file, without following a link: for the refusal. */
    static String kind(Path f) {
        try {
            java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(f,
                    java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return a.isSymbolicLink() ? "a symbolic link" : a.isDirectory() ? "a folder"
                    : a.isOther() ? "a FIFO, socket or device" : "not a file";
        } catch (java.io.IOException e) {
            return "gone or unreadable (" + e.getClass().getSimpleName() + ")";
        }
    }
}
