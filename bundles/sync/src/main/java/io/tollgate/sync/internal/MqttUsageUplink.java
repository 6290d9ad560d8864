package io.tollgate.sync.internal;

import io.tollgate.config.ConfigurationKeys;
import java.util.Map;
import io.tollgate.metering.DeviceIdentity;
import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageJournal;
import io.tollgate.sync.SyncStatus;
import io.tollgate.sync.SyncStatus.LinkState;
import io.tollgate.sync.SyncStatusProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device side of docs/sync-protocol.md: ships the usage journal to the cloud over MQTT 5 and releases what the
 * cloud acknowledged. Without a {@code broker.url} it stays active but idle (state DISABLED), so the backlog still
 * shows in the status. The work happens on one thread owned by {@link UsageSender}.
 */
@Component(service = SyncStatusProvider.class, immediate = true, configurationPid = MqttUsageUplink.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = SyncConfig.class)
public final class MqttUsageUplink implements SyncStatusProvider {
    private static final Logger LOG = LoggerFactory.getLogger(MqttUsageUplink.class);

    /** The configuration PID. */
    public static final String PID = "io.tollgate.sync";
    /** Framework or system property naming the appliance's data directory. */
    public static final String DATA_PROPERTY = "tollgate.data";
    /** Framework or system property naming the appliance's licenses folder (set by the launcher). */
    public static final String LICENSES_PROPERTY = "tollgate.licenses";
    private static final long STOP_TIMEOUT_MS = 15_000;

    private final UsageJournal journal;
    private final UplinkOptions options;
    private final UnackedAge unackedAge;
    private final long initialAckedSeq;
    private final UsageSender sender;

    /**
     * @param context the bundle context (for the {@code tollgate.data} framework property); null outside a framework,
     *                where the system property is used
     */
    @Activate
    public MqttUsageUplink(@Reference UsageJournal journal, @Reference DeviceIdentity device, SyncConfig config,
                           BundleContext context, Map<String, Object> properties) throws IOException {
        this(journal, device, checked(config, properties), context);
    }

    private static SyncConfig checked(SyncConfig config, Map<String, Object> properties) {
        ConfigurationKeys.refuseUnknown("io.tollgate.sync", SyncConfig.class, properties);
        return config;
    }

    /** Without DS (tests): the configuration as given. */
    public MqttUsageUplink(UsageJournal journal, DeviceIdentity device, SyncConfig config, BundleContext context)
            throws IOException {
        this(journal, device, config, context, licensesDir(context));
    }

    /** As above, with the licenses folder given (null: license files from the cloud are dropped). */
    MqttUsageUplink(UsageJournal journal, DeviceIdentity device, SyncConfig config, BundleContext context,
                    Path licensesDir) throws IOException {
        this.journal = journal;
        this.options = UplinkOptions.from(config, device.deviceId(), dataDir(context));
        this.unackedAge = new UnackedAge(journal);
        AckedSeqFile cursor = new AckedSeqFile(options.directory());
        this.initialAckedSeq = cursor.read();
        JournalStatus js = journal.status();
        if (initialAckedSeq > js.lastSeq()) {
            LOG.warn("The ack cursor {} says the cloud holds records up to seq {}, but the journal ends at seq {}: "
                    + "records up to {} will not be sent (delete the cursor file if the journal was replaced)",
                    cursor.path(), initialAckedSeq, js.lastSeq(), initialAckedSeq);
        }
        if (initialAckedSeq > 0) {
            try {
                // The journal does not remember releases across restarts; retention needs them again.
                journal.releaseUpTo(initialAckedSeq);
            } catch (MeteringException e) {
                LOG.warn("The journal did not take the release up to seq {}: {}", initialAckedSeq, e.getMessage());
            }
        }
        if (!options.enabled()) {
            LOG.info("Usage sync is not configured (broker.url in {} is empty): usage records stay on this device "
                    + "({} not acknowledged)", PID, Math.max(0, js.lastSeq() - initialAckedSeq));
            this.sender = null;
            return;
        }
        String version = context == null ? "dev" : context.getBundle().getVersion().toString();
        this.sender = new UsageSender(journal, options, cursor, initialAckedSeq, unackedAge, version,
                licensesDir);
        if (licensesDir == null) {
            LOG.info("The framework property {} is not set: licenses from the cloud (topic {}) cannot be installed "
                    + "and are dropped", LICENSES_PROPERTY, options.topic("cmd"));
        }
        sender.start();
    }

    /** Stops the sender thread; it leaves a retained "offline" status behind when the broker is reachable. */
    @Deactivate
    public void deactivate() {
        if (sender != null) {
            sender.stop(STOP_TIMEOUT_MS);
        }
    }

    @Override
    public SyncStatus syncStatus() {
        long last = journal.status().lastSeq();
        if (sender == null) {
            return new SyncStatus(LinkState.DISABLED, "", last, initialAckedSeq, Math.max(0, last - initialAckedSeq),
                    unackedAge.ageMs(initialAckedSeq, last), 0, 0, 0, 0, 0, 0, "", 0);
        }
        long acked = sender.ackedSeq();
        return new SyncStatus(sender.link(), options.brokerUrl(), last, acked, Math.max(0, last - acked),
                unackedAge.ageMs(acked, last), sender.lastAckEpochMs(), sender.lastCloudTimeNanos(),
                sender.bytesSent(), sender.recordsSent(), sender.batchesSent(), sender.connects(), sender.lastError(),
                sender.acksRejected(), sender.maxPacketBytes(), sender.sizeLimit(), sender.disconnectsAfterPublish(),
                commandCounts().entrySet().stream().map(e -> {
                    String[] k = e.getKey().split(" ", 2);
                    return new SyncStatus.CommandCount(k[0], k[1], e.getValue());
                }).toList());
    }

    /** Command messages handled this run by "command result" (empty when sync is disabled). */
    java.util.Map<String, Long> commandCounts() {
        return sender == null ? java.util.Map.of() : sender.commandCounts();
    }

    /** The command handler, or null when sync is disabled (tests). */
    CloudCommands commands() {
        return sender == null ? null : sender.commands();
    }

    /**
     * The first folder of {@code tollgate.licenses} (framework property, else system property; the launcher's list of
     * licenses folders, separated by the platform's path separator, the install's {@code licenses/} first), or null
     * when unset.
     */
    static Path licensesDir(BundleContext context) {
        String dirs = context != null ? context.getProperty(LICENSES_PROPERTY) : System.getProperty(LICENSES_PROPERTY);
        if (dirs == null) {
            return null;
        }
        for (String d : dirs.split(java.io.File.pathSeparator)) {
            if (!d.isBlank()) {
                return Paths.get(d.trim());
            }
        }
        return null;
    }

    static Path dataDir(BundleContext context) {
        String data = context != null ? context.getProperty(DATA_PROPERTY) : System.getProperty(DATA_PROPERTY);
        return data == null || data.isBlank() ? Paths.get("data") : Paths.get(data.trim());
    }
}
