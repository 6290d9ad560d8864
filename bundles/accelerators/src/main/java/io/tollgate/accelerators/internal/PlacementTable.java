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

    /** A placement and the instances evicted to make room for it, each with its reason. */
    record Result(Placement placement, List<Eviction> evicted) {
    }

    /** One evicted instance. */
    record Eviction(Placement placement, String reason) {
    }

    private static final class Entry {
        final Placement placement;
        long lastUse;

        Entry(Placement placement, long lastUse) {
            this.placement = placement;
            this.lastUse = lastUse;
        }
    }

    private final List<Accelerator> accelerators;
    private final PlacementSettings settings;
    private final Map<String, Entry> resident = new HashMap<>();
    private long tick;

    /** @param accelerators the inventory with budgets set ({@link PlacementSettings#withBudget}) */
    PlacementTable(List<Accelerator> accelerators, PlacementSettings settings) {
        this.accelerators = List.copyOf(accelerators);
        this.settings = settings;
    }

    List<Accelerator> accelerators() {
        return accelerators;
    }

    synchronized Result place(PlacementRequest request) throws PlacementException {
        Entry existing = resident.get(request.key());
        if (existing != null) {
            existing.lastUse = ++tick;
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
                    List<Eviction> victims = evictionsFor(a, request.estimatedBytes());
                    if (victims == null) {
                        triedBudget = true;
                        continue;
                    }
                    for (Eviction v : victims) {
                        resident.remove(v.placement().key());
                    }
                    String reason = notes.isEmpty() ? "" : "on " + a.id() + " with " + engine + ": "
                            + String.join("; ", notes);
                    Placement p = new Placement(request.model(), request.version(), a.id(), a.kind(), engine, precision,
                            request.estimatedBytes(), reason);
                    resident.put(p.key(), new Entry(p, ++tick));
                    return new Result(p, victims);
                }
            }
        }
        throw new PlacementException(triedBudget ? PlacementException.Reason.TOO_LARGE
                : PlacementException.Reason.NO_ENGINE, request.key() + " (" + mib(request.estimatedBytes())
                + ") cannot be placed: " + String.join("; ", notes));
    }

    /**
     * The instances to evict so that {@code bytes} more fit on {@code a} and the box stays within
     * {@code max.resident.models}, least recently used first; null when even evicting all would not do.
     */
    private List<Eviction> evictionsFor(Accelerator a, long bytes) {
        List<Entry> lru = resident.values().stream().sorted(Comparator.comparingLong(e -> e.lastUse)).toList();
        long used = usedOn(a.id());
        List<Eviction> victims = new ArrayList<>();
        Set<String> gone = new java.util.HashSet<>();
        for (Entry e : lru) {
            if (used + bytes <= a.budgetBytes()) {
                break;
            }
            if (e.placement.acceleratorId().equals(a.id())) {
                victims.add(new Eviction(e.placement, EVICTED_BUDGET));
                gone.add(e.placement.key());
                used -= e.placement.bytes();
            }
        }
        if (used + bytes > a.budgetBytes()) {
            return null;
        }
        int max = settings.maxResidentModels();
        if (max > 0) {
            int count = resident.size() - victims.size();
            for (Entry e : lru) {
                if (count < max) {
                    break;
                }
                if (gone.add(e.placement.key())) {
                    victims.add(new Eviction(e.placement, EVICTED_COUNT));
                    count--;
                }
            }
        }
        return victims;
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
