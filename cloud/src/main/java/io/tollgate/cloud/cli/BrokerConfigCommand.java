package io.tollgate.cloud.cli;

import io.tollgate.cloud.auth.BrokerConfig;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.PathValues;
import io.tollgate.tools.ToolException;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code tollgate-billing broker-config}: a mosquitto configuration with a password and ACL for every device. */
@Command(name = "broker-config", description = {
    "Write mosquitto.conf, passwd and acl into --out for mosquitto 2: no anonymous clients, each registered device "
        + "(username = device id) only its own topics, the billing service (tollgate-billing) every device's usage "
        + "and replies. Makes DATA/auth/mqtt-billing.password on first use (run --mqtt-username tollgate-billing "
        + "--mqtt-password-file it). Run again after registering devices, then send mosquitto SIGHUP."})
public final class BrokerConfigCommand extends BillingWork {
    @Spec
    private CommandSpec spec;

    private Path out;
    private int port = 1883;
    private String bind = "127.0.0.1";

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for the three files.")
    private void out(String value) {
        out = PathValues.nonEmpty(spec, "--out", value);
    }

    @Option(names = "--port", paramLabel = "N", description = "The listener's port (default: 1883).")
    private void port(int value) {
        if (value < 1 || value > 65535) {
            throw new ParameterException(spec.commandLine(), "--port must be from 1 to 65535, not " + value);
        }
        port = value;
    }

    @Option(names = "--bind", paramLabel = "ADDR", description = "The listener's address (default: 127.0.0.1; devices "
            + "on other hosts need a routable one, with TLS).")
    private void bind(String value) {
        if (!value.matches("[A-Za-z0-9._:-]+")) {
            throw new ParameterException(spec.commandLine(), "--bind must be a host name or address, not "
                    + ToolException.quote(value));
        }
        bind = value;
    }

    @Override
    int work() throws ToolException, IOException {
        PathValues.notAFile("--out", out);
        BrokerConfig.Written w;
        try {
            w = BrokerConfig.write(data.dataDir(), out, bind, port);
        } catch (IllegalArgumentException e) {
            throw new ToolException(ExitCodes.FAILED, e.getMessage(), e);
        }
        out().println("wrote " + w.conf() + ", " + w.passwd() + " (" + w.devices() + " device(s) and tollgate-billing), "
                + w.acl());
        out().println("billing: run --mqtt tcp://" + bind + ":" + port + " --mqtt-username tollgate-billing "
                + "--mqtt-password-file " + w.billingPasswordFile().toAbsolutePath());
        out().println("broker: mosquitto -c " + w.conf() + "  (the broker's user must read passwd: chgrp mosquitto "
                + w.passwd() + ")");
        return ExitCodes.OK;
    }
}
