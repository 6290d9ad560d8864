package io.tollgate.accelerators.internal;

import io.tollgate.accelerator.Accelerator;
import io.tollgate.accelerator.AcceleratorInventory;
import io.tollgate.accelerator.AcceleratorUsage;
import io.tollgate.accelerator.EvictionListener;
import io.tollgate.accelerator.Placement;
import io.tollgate.accelerator.PlacementException;
import io.tollgate.accelerator.PlacementRequest;
import io.tollgate.accelerator.PlacementService;
import io.tollgate.config.ConfigurationKeys;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The box's accelerators and the placement of model instances on them (issue 12). The inventory is read once, at
 * activation, under the root the framework property {@value #ROOT_PROPERTY} names (default {@code /}; tests point it
 * at recorded fixtures). A configuration change re-creates the component, and with it the placement table: the
 * serving layer places its models again when the service comes back.
 *
 * <p>Threads: callers' threads only (the serving lifecycle thread places and releases, request threads touch);
 * eviction listeners run on the placing thread after the table's lock is released.
 */
@Component(service = {AcceleratorInventory.class, PlacementService.class}, configurationPid = AcceleratorService.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = AcceleratorsConfig.class)
public final class AcceleratorService implements AcceleratorInventory, PlacementService {
    /** Configuration PID. */
    public static final String PID = "io.tollgate.accelerators";
    /** Framework (or system) property naming the folder that stands for {@code /} when reading the inventory. */
    public static final String ROOT_PROPERTY = "tollgate.accelerators.root";

    private static final Logger LOG = LoggerFactory.getLogger(AcceleratorService.class);

    private final PlacementTable table;

    /**
     * DS activation.
     *
     * @throws IllegalArgumentException naming the key and accepted values when the configuration is invalid
     */
    @Activate
    public AcceleratorService(BundleContext context, AcceleratorsConfig config, Map<String, Object> properties) {
        this(root(context), checked(config, properties));
    }

    /** Without DS: reads the inventory under {@code root} with {@code settings}. */
    AcceleratorService(Path root, PlacementSettings settings) {
        this(new InventoryReader(root).read(), settings);
    }

    /** Without DS, on a given inventory (budgets not yet set). */
    AcceleratorService(List<Accelerator> found, PlacementSettings settings) {
        List<Accelerator> budgeted = found.stream().map(settings::withBudget).toList();
        this.table = new PlacementTable(budgeted, settings);
        for (Accelerator a : budgeted) {
            LOG.info("accelerator {} ({}, {}{}): memory {}, budget {}", a.id(), a.kind().key(), a.name(),
                    a.computeCapability().isEmpty() ? "" : ", compute capability " + a.computeCapability(),
                    a.totalMemoryBytes() == 0 ? "unknown" : PlacementTable.mib(a.totalMemoryBytes()),
                    PlacementTable.mib(a.budgetBytes()));
        }
        LOG.info("placement order {}, engine order {}, precision {}, max resident models {}",
                settings.placementOrder(), settings.engineOrder(), settings.precision(),
                settings.maxResidentModels() == 0 ? "unlimited" : settings.maxResidentModels());
    }

    private static PlacementSettings checked(AcceleratorsConfig config, Map<String, Object> properties) {
        ConfigurationKeys.refuseUnknown(PID, AcceleratorsConfig.class, properties);
        return PlacementSettings.of(config);
    }

    private static Path root(BundleContext context) {
        String r = context == null ? null : context.getProperty(ROOT_PROPERTY);
        return Path.of(r == null || r.isBlank() ? "/" : r);
    }

    @Override
    public List<Accelerator> accelerators() {
        return table.accelerators();
    }

    @Override
    public Optional<Accelerator> accelerator(String id) {
        return table.accelerators().stream().filter(a -> a.id().equals(id)).findFirst();
    }

    @Override
    public List<AcceleratorUsage> usage() {
        return table.usage();
    }

    @Override
    public Placement place(PlacementRequest request, EvictionListener listener) throws PlacementException {
        PlacementTable.Result r = table.place(request);
        for (PlacementTable.Eviction e : r.evicted()) {
            LOG.info("{} on {}: {} to place {} ({})", e.placement().key(), e.placement().acceleratorId(), e.reason(),
                    request.key(), PlacementTable.mib(request.estimatedBytes()));
            try {
                listener.evicted(e.placement(), e.reason());
            } catch (RuntimeException ex) {
                LOG.error("the eviction listener failed on {}", e.placement().key(), ex);
            }
        }
        return r.placement();
    }

    @Override
    public void release(String model, String version) {
        table.release(model + ":" + version);
    }

    @Override
    public void touch(String model, String version) {
        table.touch(model + ":" + version);
    }

    @Override
    public Optional<Placement> placement(String model, String version) {
        return table.placement(model + ":" + version);
    }

    @Override
    public List<Placement> placements() {
        return table.placements();
    }

    @Override
    public long evictions() {
        return table.evictions();
    }

    @Override
    public long reloads() {
        return table.reloads();
    }
}
