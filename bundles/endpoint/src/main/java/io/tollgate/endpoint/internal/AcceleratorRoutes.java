package io.tollgate.endpoint.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.tollgate.accelerator.Accelerator;
import io.tollgate.accelerator.AcceleratorInventory;
import io.tollgate.accelerator.AcceleratorUsage;
import io.tollgate.accelerator.Placement;
import io.tollgate.accelerator.PlacementService;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * {@code GET /admin/accelerators} (admin role), the accelerator series of {@code /metrics} and the placement of each
 * plugin's model in {@code /admin/plugins} (issue 12). Its services are bound by the endpoint component; without
 * them the route answers 503 and the series and placements are left out.
 *
 * <p>Threads: event loops read; DS binds on its own thread (volatile fields).
 */
final class AcceleratorRoutes {
    private volatile AcceleratorInventory inventory;
    private volatile PlacementService placement;

    void inventory(AcceleratorInventory i) {
        inventory = i;
    }

    void inventoryGone(AcceleratorInventory i) {
        if (inventory == i) {
            inventory = null;
        }
    }

    void placement(PlacementService p) {
        placement = p;
    }

    void placementGone(PlacementService p) {
        if (placement == p) {
            placement = null;
        }
    }

    /**
     * {@code [{"id","kind","name","compute_capability","cores","memory_bytes","budget_bytes","used_bytes","free_bytes",
     * "models":[{"model","version","engine","precision","bytes","reason"}] (least recently used first)}]}.
     *
     * @throws RequestException 503 while no accelerator inventory is registered
     */
    HttpReply list() throws RequestException {
        AcceleratorInventory i = inventory;
        if (i == null) {
            throw new RequestException(RequestException.Kind.SHUTTING_DOWN, "the accelerator inventory is not running"
                    + " (bundle io.tollgate.accelerators); GET /admin/plugins and the log say why");
        }
        List<AcceleratorUsage> usage = i.usage();
        return HttpReply.json(HttpResponseStatus.OK, JsonBodies.bytes(g -> {
            g.writeStartArray();
            for (AcceleratorUsage u : usage) {
                Accelerator a = u.accelerator();
                g.writeStartObject();
                g.writeStringField("id", a.id());
                g.writeStringField("kind", a.kind().key());
                g.writeStringField("name", a.name());
                g.writeStringField("compute_capability", a.computeCapability());
                g.writeNumberField("cores", a.cores());
                g.writeNumberField("memory_bytes", a.totalMemoryBytes());
                g.writeNumberField("budget_bytes", a.budgetBytes());
                g.writeNumberField("used_bytes", u.usedBytes());
                g.writeNumberField("free_bytes", u.freeBytes());
                g.writeArrayFieldStart("models");
                for (Placement p : u.models()) {
                    g.writeStartObject();
                    g.writeStringField("model", p.model());
                    g.writeStringField("version", p.version());
                    g.writeStringField("engine", p.engine());
                    g.writeStringField("precision", p.precision());
                    g.writeNumberField("bytes", p.bytes());
                    g.writeStringField("reason", p.reason());
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
        }));
    }

    /** The placement model {@code name} {@code version} holds, if any. */
    Optional<Placement> placementOf(String name, String version) {
        PlacementService p = placement;
        return p == null || name.isEmpty() ? Optional.empty() : p.placement(name, version);
    }

    /** Writes {@code "placement": {...}} for model {@code name} {@code version} when it holds one. */
    void writePlacement(JsonGenerator g, String name, String version) throws IOException {
        PlacementService p = placement;
        if (p == null || name.isEmpty()) {
            return;
        }
        Optional<Placement> placed = p.placement(name, version);
        if (placed.isEmpty()) {
            return;
        }
        Placement pl = placed.get();
        g.writeObjectFieldStart("placement");
        g.writeStringField("accelerator", pl.acceleratorId());
        g.writeStringField("kind", pl.kind().key());
        g.writeStringField("engine", pl.engine());
        g.writeStringField("precision", pl.precision());
        g.writeNumberField("bytes", pl.bytes());
        g.writeBooleanField("fallback", pl.fallback());
        g.writeStringField("reason", pl.reason());
        g.writeEndObject();
    }

    /**
     * {@code tollgate_accelerator_memory_bytes{accelerator,kind}} (total), {@code ..._memory_used_bytes},
     * {@code ..._budget_bytes}, {@code ..._models} (resident instances) and {@code ..._fallback_models} (those placed
     * there as a fallback), one sample per accelerator.
     */
    void renderMetrics(StringBuilder out) {
        AcceleratorInventory i = inventory;
        if (i == null) {
            return;
        }
        List<AcceleratorUsage> usage = i.usage();
        series(out, usage, "tollgate_accelerator_memory_bytes", "Memory of the accelerator, in bytes (0 = unknown).",
                u -> u.accelerator().totalMemoryBytes());
        series(out, usage, "tollgate_accelerator_memory_used_bytes",
                "Bytes reserved by the model instances placed on the accelerator (estimates).", AcceleratorUsage::usedBytes);
        series(out, usage, "tollgate_accelerator_budget_bytes",
                "Bytes model instances may reserve on the accelerator (memory.budget.*.mb).",
                u -> u.accelerator().budgetBytes());
        series(out, usage, "tollgate_accelerator_models", "Model instances resident on the accelerator.",
                u -> u.models().size());
        series(out, usage, "tollgate_accelerator_fallback_models", "Model instances resident on the accelerator that"
                + " are not where the profile prefers (e.g. on the CPU for want of a GPU; /admin/plugins says why).",
                u -> u.models().stream().filter(Placement::fallback).count());
        PlacementService p = placement;
        if (p != null) {
            counter(out, "tollgate_accelerator_evictions_total", "Model instances evicted to make room (memory budget"
                    + " or max.resident.models) since start.", p.evictions());
            counter(out, "tollgate_accelerator_reloads_total", "Evicted model instances placed again (loaded on a"
                    + " request) since start; rising with the evictions means thrashing (min.residency.ms).",
                    p.reloads());
        }
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void series(StringBuilder out, List<AcceleratorUsage> usage, String name, String help,
                               java.util.function.ToLongFunction<AcceleratorUsage> value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        for (AcceleratorUsage u : usage) {
            out.append(name).append("{accelerator=\"").append(EndpointMetrics.escape(u.accelerator().id()))
                    .append("\",kind=\"").append(u.accelerator().kind().key()).append("\"} ")
                    .append(value.applyAsLong(u)).append('\n');
        }
    }
}
