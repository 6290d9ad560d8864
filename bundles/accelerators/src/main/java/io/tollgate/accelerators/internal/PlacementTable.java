package io.tollgate.accelerators.internal;

import io.tollgate.accelerator.Accelerator;
import io.tollgate.accelerator.AcceleratorKind;
import io.tollgate.accelerator.AcceleratorUsage;
import io.tollgate.accelerator.EngineAvailability;
import io.tollgate.accelerator.Placement;
import io.tollgate.accelerator.PlacementException;
import io.tollgate.accelerator.PlacementRequest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The resident model instances of the box, each on one accelerator with its reserved bytes and the tick of its last
 * use, and the placement rule (see {@link io.tollgate.accelerator.PlacementService#place}). Pure bookkeeping: it
 * decides whom to evict and drops their reservations; whoever called {@link #place} tells the serving layer.
 *
 * <p>Eviction is least recently used by {@link #touch} (a request) or placement, counted with a tick, not a clock,
 * so that two uses in the same millisecond still order. Reservations are estimates the caller gives; an evicted
 * instance's memory is counted free at once, before its engine has closed it (the unload follows within its drain).
 *
 * <p>Threads: every method is synchronized on the table; calls are short (no I/O, no callbacks).
 */
final class PlacementTable {
    /** Reason given to an instance evicted because its accelerator's budget is full. */
    static final String EVICTED_BUDGET = "evicted (memory budget)";
    /** Reason given to an instance evicted because the box holds {@code max.resident.models}. */
    static final String EVICTED_COUNT = "evicted (max.resident.models)";
    private static final long MIB = 1024L * 1024;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PlacementTable.class);

    /** A placement and the instances evicted to make room for it, each with its reason. */
    record Result(Placement placement, List<Eviction> evicted) {
    }

    /** One evicted instance. */
    record Eviction(Placement placement, String reason) {
    }

    private static final class Entry {
        final Placement placement;
        long lastUse;
        /** Clock milliseconds of its placement or last use: it is not evicted before {@code min.residency.ms} after. */
        long lastUseMs;

        Entry(Placement placement, long lastUse, long lastUseMs) {
            this.placement = placement;
            this.lastUse = lastUse;
            this.lastUseMs = lastUseMs;
        }
    }

    /** Evictions of one model within a minute above which it is thrashing (one WARN per minute and model). */
    static final int THRASH_EVICTIONS_PER_MINUTE = 5;

    private final List<Accelerator> accelerators;
    private final PlacementSettings settings;
    private final Map<String, Entry> resident = new HashMap<>();
    private final java.util.function.LongSupplier clockMs;
    private long tick;
    /** The earliest clock ms at which a pinned (too recently used) instance the last search needed may go; 0 = none. */
    private long pinnedUntilMs;
    private long evictions;
    private long reloads;
    /** Keys evicted and not placed again since: placing one counts a reload. */
    private final Set<String> evictedKeys = new java.util.HashSet<>();
    /** Clock ms of each key's evictions within the last minute, for the thrashing WARN. */
    private final Map<String, java.util.ArrayDeque<Long>> recentEvictions = new HashMap<>();
    private final Map<String, Long> warnedThrashMs = new HashMap<>();

    /** @param accelerators the inventory with budgets set ({@link PlacementSettings#withBudget}) */
    PlacementTable(List<Accelerator> accelerators, PlacementSettings settings) {
        this(accelerators, settings, System::currentTimeMillis);
    }

    /** @param clockMs milliseconds, for {@code min.residency.ms} (tests pass their own) */
    PlacementTable(List<Accelerator> accelerators, PlacementSettings settings, java.util.function.LongSupplier clockMs) {
        this.accelerators = List.copyOf(accelerators);
        this.settings = settings;
        this.clockMs = clockMs;
    }

    /** Instances evicted since start. */
    synchronized long evictions() {
        return evictions;
    }

    /** Placements of an instance that had been evicted (loads again) since start. */
    synchronized long reloads() {
        return reloads;
    }

    List<Accelerator> accelerators() {
        return accelerators;
    }

    synchronized Result place(PlacementRequest request) throws PlacementException {
        long now = clockMs.getAsLong();
        pinnedUntilMs = 0;
        Entry existing = resident.get(request.key());
        if (existing != null) {
            existing.lastUse = ++tick;
            existing.lastUseMs = now;
            return new Result(existing.placement, List.of());
        }
        Set<String> notes = new LinkedHashSet<>();
        List<String> engines = engineCandidates(request);
        if (engines.stream().noneMatch(e -> request.engines().get(e).available())) {
            List<String> why = new ArrayList<>();
            for (String e : engines) {
                why.add(e + ": " + request.engines().get(e).reason());
            }
            throw new PlacementException(PlacementException.Reason.NO_ENGINE, request.key() + ": no engine it supports"
                    + " is available here" + (why.isEmpty() ? " (it names none)" : " (" + String.join("; ", why) + ")"));
        }
        String precision = precision(request, notes);
        boolean triedBudget = false;
        for (AcceleratorKind kind : settings.placementOrder()) {
            List<Accelerator> ofKind = accelerators.stream().filter(a -> a.kind() == kind).toList();
            if (ofKind.isEmpty()) {
                notes.add("no " + kind.key() + " in the inventory");
                continue;
            }
            for (String engine : engines) {
                EngineAvailability ea = request.engines().get(engine);
                if (!ea.available()) {
                    notes.add(engine + " unavailable: " + ea.reason());
                    continue;
                }
                if (!ea.kinds().contains(kind)) {
                    notes.add(engine + " does not run on " + kind.key());
                    continue;
                }
                if (kind == AcceleratorKind.DLA && precision.equals("fp32")) {
                    notes.add("dla runs fp16 or int8 only, the precision is fp32");
                    continue;
                }
                for (Accelerator a : ofKind) {
                    if (a.budgetBytes() < request.estimatedBytes()) {
                        notes.add(a.id() + " budget " + mib(a.budgetBytes()) + " is below the model's "
                                + mib(request.estimatedBytes()));
                        triedBudget = true;
                        continue;
                    }
                    List<Eviction> victims = evictionsFor(a, request.estimatedBytes(), now);
                    if (victims == null) {
                        triedBudget = true;
                        continue;
                    }
                    for (Eviction v : victims) {
                        resident.remove(v.placement().key());
                        counted(v.placement().key(), now);
                    }
                    if (evictedKeys.remove(request.key())) {
                        reloads++;
                    }
                    String reason = notes.isEmpty() ? "" : "on " + a.id() + " with " + engine + ": "
                            + String.join("; ", notes);
                    Placement p = new Placement(request.model(), request.version(), a.id(), a.kind(), engine, precision,
                            request.estimatedBytes(), reason);
                    resident.put(p.key(), new Entry(p, ++tick, now));
                    return new Result(p, victims);
                }
            }
        }
        if (pinnedUntilMs > 0) {
            long waitMs = Math.max(1, pinnedUntilMs - now);
            throw new PlacementException(PlacementException.Reason.BUDGET_FULL, request.key() + " ("
                    + mib(request.estimatedBytes()) + ") cannot be placed now: the models that would make room were"
                    + " loaded or used less than min.residency.ms=" + settings.minResidencyMs() + " ago; the first"
                    + " may be evicted in " + waitMs + " ms", waitMs);
        }
        throw new PlacementException(triedBudget ? PlacementException.Reason.TOO_LARGE
                : PlacementException.Reason.NO_ENGINE, request.key() + " (" + mib(request.estimatedBytes())
                + ") cannot be placed: " + String.join("; ", notes));
    }

    /**
     * The instances to evict so that {@code bytes} more fit on {@code a} and the box stays within
     * {@code max.resident.models}, least recently used first, never one placed or used less than
     * {@code min.residency.ms} ago; null when that does not make room (then {@link #pinnedUntilMs} says when a pinned
     * instance that would have made room may go, if one would).
     */
    private List<Eviction> evictionsFor(Accelerator a, long bytes, long now) {
        List<Entry> lru = resident.values().stream().sorted(Comparator.comparingLong(e -> e.lastUse)).toList();
        long minResidency = settings.minResidencyMs();
        long used = usedOn(a.id());
        List<Eviction> victims = new ArrayList<>();
        Set<String> gone = new java.util.HashSet<>();
        long pinnedBytes = 0;
        long pinnedFirst = Long.MAX_VALUE;
        for (Entry e : lru) {
            if (used + bytes <= a.budgetBytes()) {
                break;
            }
            if (e.placement.acceleratorId().equals(a.id())) {
                if (now - e.lastUseMs < minResidency) {
                    pinnedBytes += e.placement.bytes();
                    pinnedFirst = Math.min(pinnedFirst, e.lastUseMs + minResidency);
                    continue;
                }
                victims.add(new Eviction(e.placement, EVICTED_BUDGET));
                gone.add(e.placement.key());
                used -= e.placement.bytes();
            }
        }
        if (used + bytes > a.budgetBytes()) {
            if (used - pinnedBytes + bytes <= a.budgetBytes()) {
                pinned(pinnedFirst);
            }
            return null;
        }
        int max = settings.maxResidentModels();
        if (max > 0) {
            int count = resident.size() - victims.size();
            for (Entry e : lru) {
                if (count < max) {
                    break;
                }
                if (gone.contains(e.placement.key())) {
                    continue;
                }
                if (now - e.lastUseMs < minResidency) {
                    pinnedFirst = Math.min(pinnedFirst, e.lastUseMs + minResidency);
                    continue;
                }
                gone.add(e.placement.key());
                victims.add(new Eviction(e.placement, EVICTED_COUNT));
                count--;
            }
            if (count >= max) {
                pinned(pinnedFirst);
                return null;
            }
        }
        return victims;
    }

    private void pinned(long untilMs) {
        if (untilMs != Long.MAX_VALUE && (pinnedUntilMs == 0 || untilMs < pinnedUntilMs)) {
            pinnedUntilMs = untilMs;
        }
    }

    /** Counts an eviction of {@code key} at {@code now}; WARNs once a minute while it is evicted too often. */
    private void counted(String key, long now) {
        evictions++;
        evictedKeys.add(key);
        java.util.ArrayDeque<Long> times = recentEvictions.computeIfAbsent(key, k -> new java.util.ArrayDeque<>());
        times.addLast(now);
        while (!times.isEmpty() && now - times.peekFirst() > 60_000) {
            times.removeFirst();
        }
        Long warned = warnedThrashMs.get(key);
        if (times.size() > THRASH_EVICTIONS_PER_MINUTE && (warned == null || now - warned > 60_000)) {
            warnedThrashMs.put(key, now);
            LOG.warn("{} was evicted {} times within a minute (thrashing: requests for models that do not fit the"
                    + " budget together alternate); raise min.residency.ms (now {} ms) or the memory budget of {},"
                    + " or lower max.resident.models pressure", key, times.size(), settings.minResidencyMs(),
                    AcceleratorService.PID);
        }
    }

    /** The plugin's engines, {@code engine.order} first, then the rest in the plugin's order. */
    private List<String> engineCandidates(PlacementRequest request) {
        List<String> out = new ArrayList<>();
        for (String e : settings.engineOrder()) {
            if (request.engines().containsKey(e)) {
                out.add(e);
            }
        }
        for (String e : request.engines().keySet()) {
            if (!out.contains(e)) {
                out.add(e);
            }
        }
        return out;
    }

    private String precision(PlacementRequest request, Set<String> notes) {
        String wanted = settings.precision();
        if (request.precisions().contains(wanted)) {
            return wanted;
        }
        String got = request.precisions().get(0);
        notes.add("the plugin offers no " + wanted + " (it offers " + String.join(", ", request.precisions())
                + "); runs " + got);
        return got;
    }

    synchronized void release(String key) {
        resident.remove(key);
    }

    synchronized void touch(String key) {
        Entry e = resident.get(key);
        if (e != null) {
            e.lastUse = ++tick;
            e.lastUseMs = clockMs.getAsLong();
        }
    }

    synchronized Optional<Placement> placement(String key) {
        Entry e = resident.get(key);
        return e == null ? Optional.empty() : Optional.of(e.placement);
    }

    /** Every placement, least recently used first. */
    synchronized List<Placement> placements() {
        return resident.values().stream().sorted(Comparator.comparingLong(e -> e.lastUse)).map(e -> e.placement)
                .toList();
    }

    synchronized List<AcceleratorUsage> usage() {
        List<Placement> lru = placements();
        List<AcceleratorUsage> out = new ArrayList<>();
        for (Accelerator a : accelerators) {
            List<Placement> on = lru.stream().filter(p -> p.acceleratorId().equals(a.id())).toList();
            out.add(new AcceleratorUsage(a, on.stream().mapToLong(Placement::bytes).sum(), on));
        }
        return out;
    }

    private long usedOn(String id) {
        return resident.values().stream().filter(e -> e.placement.acceleratorId().equals(id))
                .mapToLong(e -> e.placement.bytes()).sum();
    }

    static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) MIB);
    }
}
