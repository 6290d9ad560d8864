package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.accelerator.Accelerator;
import io.tollgate.accelerator.AcceleratorInventory;
import io.tollgate.accelerator.AcceleratorKind;
import io.tollgate.accelerator.AcceleratorUsage;
import io.tollgate.accelerator.Placement;
import java.util.List;
import java.util.Optional;
import org.junit.Test;

/** /admin/accelerators and the accelerator series of /metrics from an inventory (issue 12). */
public class AcceleratorRoutesTest {
    private static final Accelerator GPU = new Accelerator("cuda:0", AcceleratorKind.GPU, "NVIDIA T4", "7.5", 16L << 30,
            12L << 30, 0);
    private static final Accelerator CPU = new Accelerator("cpu", AcceleratorKind.CPU, "Xeon", "", 8L << 30, 4L << 20, 2);
    private static final Placement A = new Placement("a", "1.0.0", "cpu", AcceleratorKind.CPU, "onnx", "fp32", 3L << 20,
            "on cpu with onnx: onnx does not run on gpu");

    private static AcceleratorInventory inventory() {
        return new AcceleratorInventory() {
            public List<Accelerator> accelerators() {
                return List.of(GPU, CPU);
            }

            public Optional<Accelerator> accelerator(String id) {
                return accelerators().stream().filter(a -> a.id().equals(id)).findFirst();
            }

            public List<AcceleratorUsage> usage() {
                return List.of(new AcceleratorUsage(GPU, 0, List.of()), new AcceleratorUsage(CPU, 3L << 20, List.of(A)));
            }
        };
    }

    @Test
    public void listsEachAcceleratorWithBudgetUseAndResidentModels() throws Exception {
        AcceleratorRoutes routes = new AcceleratorRoutes();
        routes.inventory(inventory());
        JsonNode list = new ObjectMapper().readTree(routes.list().body());
        assertEquals(2, list.size());
        assertEquals("cuda:0", list.get(0).path("id").asText());
        assertEquals("7.5", list.get(0).path("compute_capability").asText());
        JsonNode cpu = list.get(1);
        assertEquals(4L << 20, cpu.path("budget_bytes").asLong());
        assertEquals(3L << 20, cpu.path("used_bytes").asLong());
        assertEquals(1L << 20, cpu.path("free_bytes").asLong());
        assertEquals("a", cpu.path("models").get(0).path("model").asText());
        assertEquals(A.reason(), cpu.path("models").get(0).path("reason").asText());
    }

    @Test
    public void metricsHaveOneSamplePerAcceleratorAndCountFallbacks() {
        AcceleratorRoutes routes = new AcceleratorRoutes();
        StringBuilder none = new StringBuilder();
        routes.renderMetrics(none);
        assertEquals("no inventory, no series", "", none.toString());
        routes.inventory(inventory());
        StringBuilder out = new StringBuilder();
        routes.renderMetrics(out);
        String m = out.toString();
        assertTrue(m, m.contains("# TYPE tollgate_accelerator_memory_bytes gauge\n"));
        assertTrue(m, m.contains("tollgate_accelerator_memory_bytes{accelerator=\"cuda:0\",kind=\"gpu\"} "
                + (16L << 30) + "\n"));
        assertTrue(m, m.contains("tollgate_accelerator_memory_used_bytes{accelerator=\"cpu\",kind=\"cpu\"} "
                + (3L << 20) + "\n"));
        assertTrue(m, m.contains("tollgate_accelerator_budget_bytes{accelerator=\"cpu\",kind=\"cpu\"} " + (4L << 20)));
        assertTrue(m, m.contains("tollgate_accelerator_models{accelerator=\"cpu\",kind=\"cpu\"} 1\n"));
        assertTrue(m, m.contains("tollgate_accelerator_models{accelerator=\"cuda:0\",kind=\"gpu\"} 0\n"));
        assertTrue(m, m.contains("tollgate_accelerator_fallback_models{accelerator=\"cpu\",kind=\"cpu\"} 1\n"));
    }

    @Test
    public void metricsCountEvictionsAndReloadsOfThePlacementService() {
        AcceleratorRoutes routes = new AcceleratorRoutes();
        routes.inventory(inventory());
        routes.placement(new io.tollgate.accelerator.PlacementService() {
            public Placement place(io.tollgate.accelerator.PlacementRequest r,
                                   io.tollgate.accelerator.EvictionListener l) {
                throw new UnsupportedOperationException();
            }

            public void release(String model, String version) {
            }

            public void touch(String model, String version) {
            }

            public Optional<Placement> placement(String model, String version) {
                return Optional.empty();
            }

            public List<Placement> placements() {
                return List.of(A);
            }

            public long evictions() {
                return 7;
            }

            public long reloads() {
                return 5;
            }
        });
        StringBuilder out = new StringBuilder();
        routes.renderMetrics(out);
        String m = out.toString();
        assertTrue(m, m.contains("# TYPE tollgate_accelerator_evictions_total counter\ntollgate_accelerator_evictions_total 7\n"));
        assertTrue(m, m.contains("# TYPE tollgate_accelerator_reloads_total counter\ntollgate_accelerator_reloads_total 5\n"));
    }

    @Test
    public void withoutAnInventoryTheRouteIsUnavailable() {
        try {
            new AcceleratorRoutes().list();
            fail();
        } catch (RequestException e) {
            assertEquals(RequestException.Kind.SHUTTING_DOWN, e.kind());
            assertTrue(e.getMessage(), e.getMessage().contains("io.tollgate.accelerators"));
        }
    }

    @Test
    public void theRouteIsAdminOnly() {
        RequestRouter.Match m = RequestRouter.match(List.of("admin", "accelerators"));
        assertEquals(RequestRouter.Route.ADMIN_ACCELERATORS, m.route());
        assertEquals(AccessGuard.Access.ADMIN, m.route().access);
    }
}
