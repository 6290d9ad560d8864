package io.tollgate.endpoint.internal;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.tollgate.endpoint.keys.ApiKeyFile;
import io.tollgate.health.ReadinessCheck;
import io.tollgate.metering.UsageJournal;
import io.tollgate.sync.SyncStatusProvider;
import io.tollgate.licensing.Entitlements;
import io.tollgate.licensing.QuotaUsage;
import io.tollgate.serving.InferenceService;
import io.tollgate.serving.ModelRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ExecutorService;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/1.1 server speaking the Open Inference Protocol (KServe v2 REST), plus {@code /admin/plugins} and
 * Prometheus {@code /metrics}. Activation binds the port (and fails when it cannot); deactivation stops
 * accepting, lets requests in flight finish for up to {@code drain.timeout.ms}, then closes every connection.
 *
 * <p>Who may call what is {@link AccessGuard}'s decision, from the API key file that {@link KeyFileWatcher} keeps
 * loaded (no key: protected mode, loopback clients only); with {@code tls.cert.file} the port speaks HTTPS only
 * ({@link EndpointTls}), with the same handlers behind TLS.
 *
 * <p>Threads: Netty's event loops (named {@code tollgate-endpoint-*}) own the connections, decode requests and
 * encode responses; the serving layer's threads run inferences; {@code tollgate-endpoint-keys} polls the key file;
 * the SCR thread activates and drains.
 *
 * <p>The usage journal is an optional dynamic reference used only for the {@code tollgate_usage_*} gauges of
 * {@code /metrics}: the endpoint keeps its port when metering restarts (serving, which must not run without a
 * journal, holds the mandatory reference).
 */
@Component(service = {}, immediate = true, configurationPid = HttpEndpoint.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = EndpointConfig.class)
public final class HttpEndpoint {
    /** The configuration PID. */
    public static final String PID = "io.tollgate.endpoint";

    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoint.class);
    private static final List<String> UNDERSCORED_KEYS = List.of("max_body_bytes", "io_threads", "native_transport",
            "drain_timeout_ms", "keys_file", "keys_poll_ms", "tls_cert_file", "tls_key_file", "tls_client_auth",
            "tls_client_ca_file", "max_connections", "idle_timeout_ms", "header_timeout_ms", "body_timeout_ms",
            "max_line_bytes", "max_header_bytes", "compression_min_bytes", "max_inflight_body_bytes", "max_connections_per_client",
            "tenant_rate_per_second", "tenant_rate_burst", "tenant_max_concurrent", "tenant_limits", "warmup_ms");

    private final EndpointMetrics metrics = new EndpointMetrics();
    private final KeyFileWatcher keys;
    private final RequestRouter router;
    private final EventLoopGroup group;
    /** One thread that only accepts connections, so that a flood of body bytes on the I/O threads never delays it. */
    private final EventLoopGroup acceptor;
    private final ChannelGroup channels;
    private final Channel serverChannel;
    private final long drainTimeoutMs;
    private final int port;
    private final ExecutorService decodeThreads;
    private final BodyBudget bodies;
    /** The warm-up's thread, or null when {@code warmup.ms} is 0. */
    private final Thread warmup;

    @Activate
    public HttpEndpoint(@Reference(name = "inference") InferenceService service,
                        @Reference(name = "registry") ModelRegistry registry, EndpointConfig config,
                        Map<String, Object> properties) {
        validate(config, properties);
        SslContext tls = EndpointTls.context(config);
        this.drainTimeoutMs = config.drain_timeout_ms();
        this.keys = new KeyFileWatcher(keyFile(config), config.keys_poll_ms());
        int decodeThreadCount = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        this.decodeThreads = new ThreadPoolExecutor(decodeThreadCount, decodeThreadCount, 0L, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), new DefaultThreadFactory("tollgate-endpoint-decode", true));
        this.bodies = new BodyBudget(inflightBodyBytes(config));
        metrics.bodyBytesHeld(bodies::held);
        this.router = new RequestRouter(service, registry, metrics, ServerVersion.of(HttpEndpoint.class),
                new AccessGuard(keys::current), bodies, decodeThreads);
        TenantLimits limits = TenantLimits.of(config);
        router.tenantLimits(limits);
        if (limits.enabled()) {
            LOG.info("HTTP endpoint admission limits: {}", limits.describe());
        }
        Transport transport = Transport.choose(config.native_transport());
        if (transport.reason().isEmpty()) {
            LOG.info("HTTP endpoint transport: {}", transport.name());
        } else {
            LOG.info("HTTP endpoint transport: {} ({})", transport.name(), transport.reason());
        }
        this.group = new MultiThreadIoEventLoopGroup(config.io_threads(), new DefaultThreadFactory("tollgate-endpoint"),
                transport.ioHandlers());
        this.acceptor = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("tollgate-endpoint-accept"),
                transport.ioHandlers());
        this.channels = new DefaultChannelGroup("tollgate-endpoint", GlobalEventExecutor.INSTANCE);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptor, group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new EndpointChannelInitializer(ConnectionLimits.of(config), metrics, router, channels,
                        tls));
        try {
            this.serverChannel = bootstrap.bind(config.host(), config.port()).syncUninterruptibly().channel();
        } catch (Exception e) {
            keys.close();
            acceptor.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot listen on " + config.host() + ":" + config.port() + " (" + e
                    + "); another process may hold the port: stop it, or set another port in the " + PID
                    + " configuration", e);
        }
        this.port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        this.warmup = warmUp(config, registry);
        LOG.info("HTTP endpoint listening on {}:{} ({}, max.body.bytes={}, max.inflight.body.bytes={}, "
                        + "max.connections={}, io.threads={})", config.host(), port,
                tls == null ? "plain HTTP" : "HTTPS, client certificates " + config.tls_client_auth().trim(),
                config.max_body_bytes(), bodies.max(), config.max_connections(),
                config.io_threads() == 0 ? "default" : config.io_threads());
    }

    /**
     * Starts the warm-up ({@link EndpointWarmup}) on its own thread, holding readiness until it ends or {@code
     * warmup.ms} has passed, whichever comes first: it runs while serving loads the models, so it delays ready only
     * when it outlasts them, and by {@code warmup.ms} at most.
     */
    private Thread warmUp(EndpointConfig config, ModelRegistry registry) {
        long budget = config.warmup_ms();
        if (budget <= 0) {
            return null;
        }
        metrics.readiness().warming("the endpoint is warming up its request path (at most warmup.ms=" + budget
                + " ms)");
        // ready is held for warmup.ms at most: on a loaded box the first two requests (class loading) take longer,
        // and they finish in the background then
        java.util.concurrent.CompletableFuture.delayedExecutor(budget, TimeUnit.MILLISECONDS)
                .execute(() -> metrics.readiness().warming(null));
        Thread t = new Thread(() -> {
            try {
                new EndpointWarmup(ConnectionLimits.of(config), registry, ServerVersion.of(HttpEndpoint.class))
                        .runAndLog(budget);
            } catch (RuntimeException | LinkageError e) {
                LOG.warn("endpoint warm-up failed: {}; the endpoint serves all the same", e.toString());
            } finally {
                metrics.readiness().warming(null);
            }
        }, "tollgate-endpoint-warmup");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** {@code max.inflight.body.bytes}, or a quarter of the JVM's largest heap when it is 0 (the default). */
    static long inflightBodyBytes(EndpointConfig config) {
        long configured = config.max_inflight_body_bytes();
        return configured > 0 ? configured : Math.max(config.max_body_bytes(), Runtime.getRuntime().maxMemory() / 4);
    }

    /**
     * {@code keys.file}, else {@code api-keys.json} in the configuration folder the launcher names (system property
     * {@code tollgate.conf}), else in {@code <tollgate.home>/conf}, else in {@code conf}: where {@code bin/tollgate
     * keys} writes it.
     */
    static Path keyFile(EndpointConfig config) {
        if (!config.keys_file().isBlank()) {
            return Path.of(config.keys_file().trim());
        }
        String conf = System.getProperty("tollgate.conf", "");
        if (!conf.isBlank()) {
            return Path.of(conf, ApiKeyFile.FILE_NAME);
        }
        String home = System.getProperty("tollgate.home", "");
        return (home.isBlank() ? Path.of("conf") : Path.of(home, "conf")).resolve(ApiKeyFile.FILE_NAME);
    }

    private static void validate(EndpointConfig c, Map<String, Object> properties) {
        StringBuilder problems = new StringBuilder();
        for (String key : UNDERSCORED_KEYS) {
            // DS reads max_body_bytes() from the key "max.body.bytes": an underscored key would be silently ignored
            if (properties.containsKey(key)) {
                problems.append("key '").append(key).append("' is not read; spell it '").append(key.replace('_', '.'))
                        .append("'; ");
            }
        }
        if (c.port() < 0 || c.port() > 65535) {
            problems.append("port must be 0..65535 (0 = any free port), not ").append(c.port()).append("; ");
        }
        if (c.host() == null || c.host().isBlank()) {
            problems.append("host must be an address to bind such as 0.0.0.0 or 127.0.0.1; ");
        }
        if (c.max_body_bytes() <= 0) {
            problems.append("max.body.bytes must be positive, not ").append(c.max_body_bytes()).append("; ");
        }
        if (c.io_threads() < 0) {
            problems.append("io.threads must be 0 (Netty's default) or more, not ").append(c.io_threads()).append("; ");
        }
        if (c.max_inflight_body_bytes() < 0 || c.max_inflight_body_bytes() > 0
                && c.max_inflight_body_bytes() < c.max_body_bytes()) {
            problems.append("max.inflight.body.bytes must be 0 (a quarter of the heap) or at least max.body.bytes (")
                    .append(c.max_body_bytes()).append("), not ").append(c.max_inflight_body_bytes()).append("; ");
        }
        if (c.max_connections_per_client() < 1) {
            problems.append("max.connections.per.client must be at least 1, not ").append(c.max_connections_per_client())
                    .append("; ");
        }
        if (c.max_connections() < 1) {
            problems.append("max.connections must be at least 1, not ").append(c.max_connections()).append("; ");
        }
        for (Object[] t : new Object[][] {{"idle.timeout.ms", c.idle_timeout_ms()},
                {"header.timeout.ms", c.header_timeout_ms()}, {"body.timeout.ms", c.body_timeout_ms()}}) {
            if ((long) t[1] < 0) {
                problems.append(t[0]).append(" must be 0 (off) or more, not ").append(t[1]).append("; ");
            }
        }
        if (c.max_line_bytes() < 256) {
            problems.append("max.line.bytes must be at least 256, not ").append(c.max_line_bytes()).append("; ");
        }
        if (c.max_header_bytes() < 1024) {
            problems.append("max.header.bytes must be at least 1024, not ").append(c.max_header_bytes()).append("; ");
        }
        if (c.compression_min_bytes() < 0) {
            problems.append("compression.min.bytes must be 0 (never) or more, not ").append(c.compression_min_bytes())
                    .append("; ");
        }
        if (c.warmup_ms() < 0 || c.warmup_ms() > 10_000) {
            problems.append("warmup.ms must be 0 (off) to 10000, not ").append(c.warmup_ms()).append("; ");
        }
        if (c.drain_timeout_ms() < 0) {
            problems.append("drain.timeout.ms must be 0 or more, not ").append(c.drain_timeout_ms()).append("; ");
        }
        if (c.keys_poll_ms() < 10) {
            problems.append("keys.poll.ms must be 10 or more, not ").append(c.keys_poll_ms()).append("; ");
        }
        try {
            TenantLimits.of(c);
        } catch (IllegalArgumentException e) {
            problems.append(e.getMessage()).append("; ");
        }
        if (problems.length() == 0) {
            // every other key that is not this component's: a typo must not leave a default in place silently
            io.tollgate.config.ConfigurationKeys.refuseUnknown(PID, EndpointConfig.class, properties);
        }
        if (problems.length() > 0) {
            throw new IllegalArgumentException("invalid " + PID + " configuration: "
                    + problems.substring(0, problems.length() - 2));
        }
    }

    @Reference(name = "journal", service = UsageJournal.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindJournal")
    void bindJournal(UsageJournal journal) {
        metrics.journal(journal);
    }

    void unbindJournal(UsageJournal journal) {
        metrics.journalGone(journal);
    }

    @Reference(name = "sync", service = SyncStatusProvider.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindSync")
    void bindSync(SyncStatusProvider provider) {
        metrics.sync(provider);
    }

    void unbindSync(SyncStatusProvider provider) {
        metrics.syncGone(provider);
    }

    @Reference(name = "entitlements", service = Entitlements.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindEntitlements")
    void bindEntitlements(Entitlements entitlements) {
        router.licenses().entitlements(entitlements);
        metrics.licenses().entitlements(entitlements);         // the tollgate_license_* gauges
    }

    void unbindEntitlements(Entitlements entitlements) {
        router.licenses().entitlementsGone(entitlements);
        metrics.licenses().entitlementsGone(entitlements);
    }

    @Reference(name = "quotas", service = QuotaUsage.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindQuotas")
    void bindQuotas(QuotaUsage quotas) {
        router.licenses().quotas(quotas);
        metrics.licenses().quota(quotas);                       // tollgate_license_quota_remaining
    }

    void unbindQuotas(QuotaUsage quotas) {
        router.licenses().quotasGone(quotas);
        metrics.licenses().quotaGone(quotas);
    }

    /** The box's accelerators (issue 12): {@code /admin/accelerators} and the accelerator series of /metrics. */
    @Reference(name = "accelerators", service = io.tollgate.accelerator.AcceleratorInventory.class,
            cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindAccelerators")
    void bindAccelerators(io.tollgate.accelerator.AcceleratorInventory inventory) {
        router.accelerators().inventory(inventory);
    }

    void unbindAccelerators(io.tollgate.accelerator.AcceleratorInventory inventory) {
        router.accelerators().inventoryGone(inventory);
    }

    /** Where each model runs (issue 12), shown with its plugin in {@code /admin/plugins}. */
    @Reference(name = "placement", service = io.tollgate.accelerator.PlacementService.class,
            cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindPlacement")
    void bindPlacement(io.tollgate.accelerator.PlacementService placement) {
        router.accelerators().placement(placement);
    }

    void unbindPlacement(io.tollgate.accelerator.PlacementService placement) {
        router.accelerators().placementGone(placement);
    }

    /** Explicit model control (load/unload), registered by serving; without it those routes answer 503. */
    @Reference(name = "repository", service = io.tollgate.serving.RepositoryControl.class,
            cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindRepository")
    void bindRepository(io.tollgate.serving.RepositoryControl control) {
        router.repository().control(control);
    }

    void unbindRepository(io.tollgate.serving.RepositoryControl control) {
        router.repository().controlGone(control);
    }

    @Reference(name = "readiness", service = ReadinessCheck.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, unbind = "unbindReadiness")
    void bindReadiness(ReadinessCheck check) {
        metrics.readiness().add(check);
    }

    void unbindReadiness(ReadinessCheck check) {
        metrics.readiness().remove(check);
    }

    /** The port actually bound (differs from the configured one when that was 0). */
    public int port() {
        return port;
    }

    @Deactivate
    public void deactivate() {
        router.startDraining();
        if (warmup != null) {
            warmup.interrupt();
            try {
                warmup.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        router.licenses().close();
        router.repository().close();
        serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainTimeoutMs);
        while (metrics.inFlight() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int left = metrics.inFlight();
        if (left > 0) {
            LOG.warn("HTTP endpoint closing with {} request(s) still in flight after drain.timeout.ms={}", left,
                    drainTimeoutMs);
        }
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        decodeThreads.shutdownNow();
        keys.close();
        acceptor.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        LOG.info("HTTP endpoint on port {} stopped", port);
    }
}
