package io.tollgate.cloud.cli;

import io.tollgate.cloud.BillingException;
import io.tollgate.cloud.BillingOptions;
import io.tollgate.cloud.BillingService;
import io.tollgate.cloud.EmbeddedBroker;
import io.tollgate.tools.ExitCodes;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tollgate-billing run}: the billing endpoint in the foreground until SIGTERM. */
@Command(name = "run", description = {"Run the billing endpoint in the foreground; SIGTERM stops it cleanly."})
public final class RunCommand extends BillingWork {
    @Mixin
    private LedgerOption ledger;

    @Option(names = "--mqtt", paramLabel = "URI|none", defaultValue = "tcp://127.0.0.1:1883",
            description = "Broker the devices publish to; none = no MQTT, HTTP API only (default: ${DEFAULT-VALUE}).")
    private String mqtt;

    @Option(names = "--http-host", paramLabel = "H", defaultValue = "0.0.0.0",
            description = "Address the HTTP API binds (default: ${DEFAULT-VALUE}).")
    private String httpHost;

    @Option(names = "--http-port", paramLabel = "N", defaultValue = "8080",
            description = "HTTP API port; 0 = any free port, -1 = no HTTP API (default: ${DEFAULT-VALUE}).")
    private int httpPort;

    @Option(names = "--prices", paramLabel = "FILE", description = "Price list (JSON) loaded into the ledger at start.")
    private Path prices;

    @Option(names = "--client-id", paramLabel = "ID",
            description = "MQTT client id (default: tollgate-billing-<host>-<hash of data folder and HTTP port>, stable "
                    + "across restarts; give each instance its own when several share a host, data folder and port).")
    private String clientId;

    @Option(names = "--embedded-broker", paramLabel = "PORT",
            description = "Start an MQTT 5 broker in this process on 127.0.0.1:PORT and use it (the appliance's "
                    + "run --demo).")
    private Integer embeddedBroker;

    @Override
    int work() throws BillingException, InterruptedException {
        String uri = mqtt;
        EmbeddedBroker broker = null;
        if (embeddedBroker != null) {
            broker = EmbeddedBroker.start(data.dataDir().resolve("broker"), embeddedBroker);
            uri = broker.uri();
        }
        BillingOptions options = BillingOptions.defaults(data.dataDir())
                .withMqtt("none".equals(uri) ? null : uri)
                .withJdbcUrl(ledger.option())
                .withHttp(httpHost, httpPort);
        if (prices != null) {
            options = options.withPrices(prices);
        }
        if (clientId != null) {
            options = options.withClientId(clientId);
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
