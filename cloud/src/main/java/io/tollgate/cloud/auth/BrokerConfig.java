package io.tollgate.cloud.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A mosquitto 2 configuration for the devices and the billing service ({@code tollgate-billing broker-config},
 * docs/operations.md "The broker"): {@code mosquitto.conf} (no anonymous clients, the username is the client id so no
 * client can take over another's session, bounded packets), {@code passwd} (the devices' hashes from
 * {@code <data>/auth/mqtt-passwd} and the billing identity's) and {@code acl} (each device only its own topics of
 * docs/sync-protocol.md; the billing identity every device's usage and replies).
 *
 * <p>The billing identity's password is made on first use and kept in {@code <data>/auth/mqtt-billing.password}
 * (0600): {@code run --mqtt-username tollgate-billing --mqtt-password-file} that file.
 */
public final class BrokerConfig {
    public static final String BILLING_PASSWORD_FILE = "mqtt-billing.password";
    /**
     * 1 MiB of slack on top of the largest batch a device sends (its body is cut at 256 KiB, docs/sync-protocol.md;
     * a single record over that goes alone and is far smaller than the slack).
     */
    public static final int MAX_PACKET_SIZE = (1 << 20) + (256 << 10);

    private BrokerConfig() {
    }

    /** What was written. */
    public record Written(Path conf, Path passwd, Path acl, Path billingPasswordFile, int devices) {
    }

    /** {@code <data>/auth/mqtt-billing.password}. */
    public static Path billingPasswordFile(Path dataDir) {
        return AuthFiles.folder(dataDir).resolve(BILLING_PASSWORD_FILE);
    }

    /**
     * Writes {@code mosquitto.conf}, {@code passwd} and {@code acl} into {@code out} for a listener on
     * {@code bind:port}. Files that exist keep their group (e.g. {@code chgrp mosquitto}); passwd is 0640, the others
     * 0644.
     */
    public static Written write(Path dataDir, Path out, String bind, int port) throws IOException {
        Files.createDirectories(out);
        Path billingPw = billingPasswordFile(dataDir);
        Map<String, String> hashes = AuthFiles.locked(dataDir, () -> {
            String password;
            if (Files.exists(billingPw)) {
                password = AuthFiles.readSecret(billingPw, "the billing broker password file");
            } else {
                password = MqttPasswords.newPassword();
                AuthFiles.writeAtomically(billingPw, password + "\n", AuthFiles.OWNER_ONLY);
            }
            Map<String, String> all = new LinkedHashMap<>(MqttPasswords.read(MqttPasswords.file(dataDir)));
            all.remove(MqttPasswords.BILLING_USERNAME);
            all.put(MqttPasswords.BILLING_USERNAME, MqttPasswords.hash(password));
            return all;
        });
        Path abs = out.toAbsolutePath().normalize();
        Path conf = abs.resolve("mosquitto.conf");
        Path passwd = abs.resolve("passwd");
        Path acl = abs.resolve("acl");
        replace(passwd, "# Written by tollgate-billing broker-config: every registered device and tollgate-billing.\n"
                + MqttPasswords.format(hashes), "rw-r-----");
        replace(acl, acl(), "rw-r--r--");
        replace(conf, conf(bind, port, passwd, acl), "rw-r--r--");
        return new Written(conf, passwd, acl, billingPw, hashes.size() - 1);
    }

    static String conf(String bind, int port, Path passwd, Path acl) {
        return String.join("\n", List.of(
                "# Written by tollgate-billing broker-config (docs/operations.md, \"The broker\"). Regenerate it rather",
                "# than edit it; after registering devices run broker-config again and send mosquitto SIGHUP, which",
                "# re-reads passwd and acl.",
                "per_listener_settings false",
                "allow_anonymous false",
                "password_file " + passwd,
                "acl_file " + acl,
                "# a batch body is at most 256 KiB (docs/sync-protocol.md); anything much larger is not ours",
                "max_packet_size " + MAX_PACKET_SIZE,
                "",
                "# Listener settings come after their listener line (before any, mosquitto opens a default one on 1883).",
                "listener " + port + " " + bind,
                "# the client id is the username: a device cannot take over another device's session or connection",
                "use_username_as_clientid true",
                "# Beyond loopback, use TLS: add cafile/certfile/keyfile lines to this listener (mosquitto.conf(5)).",
                ""));
    }

    static String acl() {
        return String.join("\n", List.of(
                "# Written by tollgate-billing broker-config. Topics: docs/sync-protocol.md.",
                "# Every device (username = device id = client id): only its own topics.",
                "pattern write tollgate/v1/%u/usage",
                "pattern readwrite tollgate/v1/%u/status",
                "pattern read tollgate/v1/%u/ack",
                "pattern read tollgate/v1/%u/resend",
                "pattern read tollgate/v1/%u/cmd",
                "",
                "# The billing service: every device's usage (through $share/tollgate-billing/...), every reply.",
                "user " + MqttPasswords.BILLING_USERNAME,
                "topic read tollgate/v1/+/usage",
                "topic write tollgate/v1/+/ack",
                "topic write tollgate/v1/+/resend",
                "topic write tollgate/v1/+/cmd",
                ""));
    }

    private static void replace(Path file, String text, String mode) throws IOException {
        AuthFiles.writeAtomically(file, text, PosixFilePermissions.fromString(mode));
    }
}
