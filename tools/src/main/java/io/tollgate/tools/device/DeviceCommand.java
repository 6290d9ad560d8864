package io.tollgate.tools.device;

import io.tollgate.tools.ConfDirOption;
import io.tollgate.tools.DataCommand;
import io.tollgate.tools.ExitCodes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tollgate device init|id|pubkey|wrap-key|enroll}: the device identity in {@code DIR/device}, and its enrollment. */
@Command(name = "device", description = "The device identity (DIR/device): its id and Ed25519 public key; enrollment "
        + "with the billing service.",
        subcommands = {DeviceCommand.Init.class, DeviceCommand.Id.class, DeviceCommand.Pubkey.class,
            DeviceCommand.WrapKey.class, DeviceCommand.Enroll.class})
public final class DeviceCommand {

    /** {@code device init}. */
    @Command(name = "init", description = {
        "Create the device identity if there is none (as the first start would); print the device id.",
        "Lets a fleet tool register the device with the cloud before the box serves anything."})
    public static final class Init extends DataCommand {
        @Override
        public Integer call() throws Exception {
            out().println(DeviceReports.init(data()));
            return ExitCodes.OK;
        }
    }

    /** {@code device id}. */
    @Command(name = "id", description = "Print the device id (what usage records and the cloud call this box).")
    public static final class Id extends DataCommand {
        @Override
        public Integer call() throws Exception {
            out().println(DeviceReports.id(data()));
            return ExitCodes.OK;
        }
    }

    /** {@code device pubkey}. */
    @Command(name = "pubkey", description = "Print the device public key (PEM), which the cloud registers.")
    public static final class Pubkey extends DataCommand {
        @Override
        public Integer call() throws Exception {
            out().print(DeviceReports.publicKeyPem(data()));
            return ExitCodes.OK;
        }
    }

    /** {@code device wrap-key}. */
    @Command(name = "wrap-key", description = {
        "Print the device's X25519 wrap public key (PEM, DIR/device/wrap-public.pem; made if missing, as the first "
            + "start does).",
        "Send it to a vendor with the device id and pubkey: the vendor wraps an encrypted model's key for it "
            + "(tollgate-vendor issue --device-wrap-key), so the model opens on this box only."})
    public static final class WrapKey extends DataCommand {
        @Override
        public Integer call() throws Exception {
            out().print(io.tollgate.guard.DeviceWrapKey.ensure(data().resolve("device")));
            return ExitCodes.OK;
        }
    }

    /** {@code device enroll}. */
    @Command(name = "enroll", description = {
        "Register this device with the billing service (POST URL/v1/devices with the token; creates the device "
            + "identity first if needed) and configure its usage uplink with the answer:",
        "the cloud's ack key pinned in CONF/cloud.pub.pem, the MQTT password (if the service sends one) in "
            + "DATA/secrets/mqtt-password (0600), and CONF/io.tollgate.sync.cfg (broker.url from --mqtt, "
            + "cloud.public.key.file, mqtt.username, mqtt.password.file, tls.ca.file from --tls-ca).",
        "Without network access to the billing service: docs/operations.md, \"Enrollment\", the offline route."})
    public static final class Enroll extends DataCommand {
        @Mixin
        private ConfDirOption conf;

        @Option(names = "--billing", required = true, paramLabel = "URL",
                description = "The billing service, e.g. https://billing.example.com (plain http only to this box "
                        + "unless --allow-plain).")
        private String billing;

        @Option(names = "--token", paramLabel = "T",
                description = "A billing API token that may enroll devices (tollgate-billing token create --role "
                        + "enroll). On a shared box prefer --token-file: a command line is visible to other users.")
        private String token;

        @Option(names = "--token-file", paramLabel = "FILE",
                description = "A file holding the token (mode 0600 or 0400), instead of --token.")
        private Path tokenFile;

        @Option(names = "--tenant", paramLabel = "T",
                description = "A tenant this device's usage may be billed to; repeat for several (default: the "
                        + "billing's, \"default\").")
        private List<String> tenants = new ArrayList<>();

        @Option(names = "--mqtt", paramLabel = "URL",
                description = "The broker the device sends usage to, e.g. ssl://broker:8883 (written as broker.url).")
        private String mqtt;

        @Option(names = "--tls-ca", paramLabel = "FILE",
                description = "PEM CA certificate(s) of the ssl:// broker (written as tls.ca.file; default: the "
                        + "JVM's trust store).")
        private Path tlsCa;

        @Option(names = "--allow-plain", description = "Allow --billing http:// to a host that is not loopback.")
        private boolean allowPlain;

        @Override
        public Integer call() throws Exception {
            return Enrollment.enroll(billing, Enrollment.token(token, tokenFile), tenants, mqtt, tlsCa, allowPlain,
                    data(), conf.resolve(), out(), err());
        }
    }
}
