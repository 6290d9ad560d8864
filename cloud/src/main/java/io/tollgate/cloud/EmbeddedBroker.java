package io.tollgate.cloud;

import com.hivemq.embedded.EmbeddedHiveMQ;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An MQTT 5 broker in this process (HiveMQ Community Edition, embedded), listening on loopback only:
 * the zero-setup default for the appliance's {@code --demo}. Real deployments use a real broker
 * (mosquitto, EMQX, HiveMQ), which is also what the fault tests run against.
 */
public final class EmbeddedBroker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedBroker.class);
    private final EmbeddedHiveMQ hive;
    private final int port;

    private EmbeddedBroker(EmbeddedHiveMQ hive, int port) {
        this.hive = hive;
        this.port = port;
    }

    /** Starts a broker on 127.0.0.1:{@code port} keeping its state under {@code dir}. */
    public static EmbeddedBroker start(Path dir, int port) throws BillingException {
        try {
            Path conf = Files.createDirectories(dir.resolve("conf"));
            Files.writeString(conf.resolve("config.xml"), String.join("\n",
                    "<?xml version=\"1.0\"?>",
                    "<hivemq>",
                    "  <listeners><tcp-listener><port>" + port + "</port><bind-address>127.0.0.1</bind-address></tcp-listener></listeners>",
                    "  <anonymous-usage-statistics><enabled>false</enabled></anonymous-usage-statistics>",
                    "</hivemq>", ""), StandardCharsets.UTF_8);
            EmbeddedHiveMQ hive = EmbeddedHiveMQ.builder()
                    .withConfigurationFolder(conf)
                    .withDataFolder(Files.createDirectories(dir.resolve("data")))
                    .withExtensionsFolder(Files.createDirectories(dir.resolve("extensions")))
                    .build();
            hive.start().join();
            LOG.info("embedded MQTT 5 broker listening on 127.0.0.1:{}", port);
            return new EmbeddedBroker(hive, port);
        } catch (IOException | RuntimeException e) {
            throw new BillingException("embedded MQTT broker did not start on 127.0.0.1:" + port + ": " + e.getMessage(), e);
        }
    }

    public String uri() {
        return "tcp://127.0.0.1:" + port;
    }

    @Override
    public void close() {
        try {
            hive.stop().join();
            hive.close();
        } catch (Exception e) {
            LOG.warn("embedded broker did not stop cleanly", e);
        }
    }
}
