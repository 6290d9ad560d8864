package io.tollgate.cloud.cli;

import io.tollgate.cloud.BillingException;
import io.tollgate.cloud.BillingOptions;
import io.tollgate.cloud.BillingService;
import io.tollgate.cloud.EmbeddedBroker;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.PathValues;
import io.tollgate.tools.ToolException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code tollgate-billing run}: the billing endpoint in the foreground until SIGTERM. */
@Command(name = "run", description = {"Run the billing endpoint in the foreground; SIGTERM stops it cleanly."})
public final class RunCommand extends BillingWork {
    @Mixin
    private LedgerOption ledger;

    @Spec
    private CommandSpec spec;

    private String mqtt = "tcp://127.0.0.1:1883";
    private String httpHost = "127.0.0.1";
    private int httpPort = 8080;
    private Path prices;
    private String clientId;
    private Integer embeddedBroker;
    private String mqttUsername;
    private Path mqttPasswordFile;
    private Path httpTlsCert;
    private Path httpTlsKey;

    // Every value is checked here, while parsing: a bad one is one line and exit 2 before anything connects.

    @Option(names = "--mqtt", paramLabel = "URI|none",
            description = "Broker the devices publish to, tcp://, ssl://, ws:// or wss://HOST[:PORT]; none = no MQTT, "
                    + "HTTP API only (default: tcp://127.0.0.1:1883).")
    private void mqtt(String value) {
        if (!"none".equals(value) && !brokerUri(value)) {
            throw bad("--mqtt must be none or look like tcp://127.0.0.1:1883 or ssl://broker:8883, not "
                    + ToolException.quote(value));
        }
        mqtt = value;
    }

    /** scheme://host[:port] with a scheme Paho speaks and a port in range, nothing after it. */
    private static boolean brokerUri(String value) {
        try {
            URI u = new URI(value);
            return u.getScheme() != null && u.getScheme().toLowerCase(Locale.ROOT).matches("tcp|ssl|ws|wss")
                    && u.getHost() != null && u.getPort() <= 65535 && u.getPort() != 0 && u.getUserInfo() == null
                    && (u.getRawPath() == null || u.getRawPath().isEmpty()) && u.getRawQuery() == null
                    && u.getRawFragment() == null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    @Option(names = "--http-host", paramLabel = "H",
            description = "Address the HTTP API binds (default: 127.0.0.1). Any other without --http-tls-cert is "
                    + "logged as a warning: bearer tokens would cross the network in clear text.")
    private void httpHost(String value) {
        if (value.isBlank() || !value.matches("[A-Za-z0-9._:-]+")) {
            throw bad("--http-host must be a host name or address, not " + ToolException.quote(value));
        }
        httpHost = value;
    }

    @Option(names = "--http-port", paramLabel = "N",
            description = "HTTP API port; 0 = any free port, -1 = no HTTP API (default: 8080).")
    private void httpPort(int value) {
        if (value < -1 || value > 65535) {
            throw bad("--http-port must be from 0 to 65535, or -1 for no HTTP API, not " + value);
        }
        httpPort = value;
    }

    @Option(names = "--prices", paramLabel = "FILE", description = "Price list (JSON) loaded into the ledger at start.")
    private void prices(String value) {
        prices = PathValues.nonEmpty(spec, "--prices", value);
    }

    @Option(names = "--client-id", paramLabel = "ID",
            description = "MQTT client id (default: tollgate-billing-<host>-<hash of data folder and HTTP port>, stable "
                    + "across restarts; give each instance its own when several share a host, data folder and port).")
    private void clientId(String value) {
        if (!value.matches("[\\x21-\\x7e]{1,128}")) {
            throw bad("--client-id must be 1 to 128 printable ASCII characters without spaces, not "
                    + ToolException.quote(value));
        }
        clientId = value;
    }

    @Option(names = "--embedded-broker", paramLabel = "PORT",
            description = "Start an MQTT 5 broker in this process on 127.0.0.1:PORT and use it (the appliance's "
                    + "run --demo).")
    private void embeddedBroker(int value) {
        if (value < 1 || value > 65535) {
            throw bad("--embedded-broker must be a port from 1 to 65535, not " + value);
        }
        embeddedBroker = value;
    }

    @Option(names = "--mqtt-username", paramLabel = "USER",
            description = "Broker username, tollgate-billing with a broker-config broker (default: none).")
    private void mqttUsername(String value) {
        if (!value.matches("[^:\\s]{1,128}")) {
            throw bad("--mqtt-username must be 1 to 128 characters without ':' or spaces, not "
                    + ToolException.quote(value));
        }
        mqttUsername = value;
    }

    @Option(names = "--mqtt-password-file", paramLabel = "FILE",
            description = "File holding the broker password (mode 0600 or 0400), e.g. DATA/auth/mqtt-billing.password "
                    + "made by broker-config.")
    private void mqttPasswordFile(String value) {
        mqttPasswordFile = PathValues.nonEmpty(spec, "--mqtt-password-file", value);
    }

    @Option(names = "--http-tls-cert", paramLabel = "FILE.pem",
            description = "Serve the HTTP API over TLS with this PEM certificate chain (leaf first); with --http-tls-key.")
    private void httpTlsCert(String value) {
        httpTlsCert = PathValues.nonEmpty(spec, "--http-tls-cert", value);
    }

    @Option(names = "--http-tls-key", paramLabel = "FILE.pem", description = "The PKCS#8 PEM key of --http-tls-cert.")
    private void httpTlsKey(String value) {
        httpTlsKey = PathValues.nonEmpty(spec, "--http-tls-key", value);
    }

    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    @Override
    int work() throws ToolException, BillingException, InterruptedException {
        if (prices != null && !Files.isRegularFile(prices)) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot read --prices " + prices + ": "
                    + (Files.isDirectory(prices) ? "is a directory" : "no such file"));
        }
        if (mqttPasswordFile != null && mqttUsername == null) {
            throw new ToolException(ExitCodes.USAGE, "--mqtt-password-file needs --mqtt-username");
        }
        if (mqttPasswordFile != null && !Files.isReadable(mqttPasswordFile)) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot read --mqtt-password-file " + mqttPasswordFile + ": "
                    + (Files.exists(mqttPasswordFile) ? "permission denied" : "no such file"));
        }
        if ((httpTlsCert == null) != (httpTlsKey == null)) {
            throw new ToolException(ExitCodes.USAGE, "--http-tls-cert and --http-tls-key go together");
        }
        for (Path f : new Path[] {httpTlsCert, httpTlsKey}) {
            if (f != null && !Files.isReadable(f)) {
                throw new ToolException(ExitCodes.IO_ERROR, "cannot read " + (f == httpTlsCert ? "--http-tls-cert "
                        : "--http-tls-key ") + f + ": " + (Files.exists(f) ? "permission denied" : "no such file"));
            }
        }
        String uri = mqtt;
        EmbeddedBroker broker = null;
        if (embeddedBroker != null) {
            broker = EmbeddedBroker.start(data.dataDir().resolve("broker"), embeddedBroker);
            uri = broker.uri();
        }
        BillingOptions options = BillingOptions.defaults(data.dataDir())
                .withMqtt("none".equals(uri) ? null : uri)
                .withJdbcUrl(ledger.option())
                .withDbPassword(ledger.password())
                .withHttp(httpHost, httpPort);
        if (prices != null) {
            options = options.withPrices(prices);
        }
        if (clientId != null) {
            options = options.withClientId(clientId);
        }
        if (mqttUsername != null) {
            options = options.withMqttLogin(mqttUsername, mqttPasswordFile);
        }
        if (httpTlsCert != null) {
            options = options.withHttpTls(httpTlsCert, httpTlsKey);
        }
        BillingService service = BillingService.start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        EmbeddedBroker embedded = broker;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            if (embedded != null) {
                embedded.close();
            }
            stopped.countDown();
        }, "tollgate-billing-shutdown"));
        stopped.await();
        return ExitCodes.OK;
    }
}
