package io.tollgate.cloud;

import io.tollgate.cloud.ledger.Database;
import io.tollgate.cloud.ledger.DeviceInfo;
import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.LedgerException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code bin/tollgate-billing}: run the endpoint, register devices, print the cloud public key.
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */
public final class Main {
    static final String USAGE = String.join("\n",
            "usage: tollgate-billing run [--mqtt URI|none] [--db JDBC-URL] [--http-port N] [--http-host H]",
            "                            [--data DIR] [--prices FILE] [--client-id ID] [--embedded-broker PORT]",
            "       tollgate-billing device register --id ID --public-key FILE.pem [--db JDBC-URL] [--data DIR]",
            "       tollgate-billing device list [--db JDBC-URL] [--data DIR]",
            "       tollgate-billing cloud pubkey [--data DIR]",
            "defaults: --mqtt tcp://127.0.0.1:1883, --db embedded H2 in DIR/ledger.mv.db, --http-port 8080,",
            "          --data $TOLLGATE_BILLING_HOME/data (or ./data),",
            "          --client-id tollgate-billing-<host>-<hash of data dir and http port> (stable across restarts;",
            "          give each instance its own when several share a host, data dir and port)");

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length == 0 || Set.of("help", "--help", "-h").contains(args[0])) {
                out.println(USAGE);
                return 0;
            }
            String cmd = args[0] + (args.length > 1 && !args[1].startsWith("--") ? " " + args[1] : "");
            int skip = cmd.contains(" ") ? 2 : 1;
            Map<String, String> opts = options(List.of(args).subList(skip, args.length));
            switch (cmd) {
                case "run" -> {
                    return runService(opts);
                }
                case "device register" -> {
                    String id = required(opts, "id");
                    Path pem = Path.of(required(opts, "public-key"));
                    try (Database db = Database.open(dbUrl(opts))) {
                        new Ledger(db).registerDevice(id, Files.readString(pem, StandardCharsets.US_ASCII));
                    }
                    out.println("registered " + id);
                    return 0;
                }
                case "device list" -> {
                    try (Database db = Database.open(dbUrl(opts))) {
                        for (DeviceInfo d : new Ledger(db).devices()) {
                            out.println(d.id() + "\tacked_seq=" + d.headSeq() + "\tsealed_seq=" + d.sealedSeq()
                                    + (d.brokenAtSeq() > 0 ? "\tBROKEN at " + d.brokenAtSeq() + ": "
                                    + d.brokenReason() : ""));
                        }
                    }
                    return 0;
                }
                case "cloud pubkey" -> {
                    out.print(CloudKey.loadOrCreate(dataDir(opts)).publicPem());
                    return 0;
                }
                default -> throw new IllegalArgumentException("unknown command '" + cmd + "'");
            }
        } catch (IllegalArgumentException e) {
            err.println("tollgate-billing: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (LedgerException | BillingException | IOException e) {
            err.println("tollgate-billing: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private static int runService(Map<String, String> opts) throws BillingException, InterruptedException {
        String mqtt = opts.getOrDefault("mqtt", "tcp://127.0.0.1:1883");
        // --embedded-broker PORT: an MQTT 5 broker in this process (the appliance's --demo), used as --mqtt.
        EmbeddedBroker broker = null;
        if (opts.containsKey("embedded-broker")) {
            broker = EmbeddedBroker.start(dataDir(opts).resolve("broker"), intOption(opts, "embedded-broker", 1883));
            mqtt = broker.uri();
        }
        BillingOptions options = BillingOptions.defaults(dataDir(opts))
                .withMqtt("none".equals(mqtt) ? null : mqtt)
                .withJdbcUrl(opts.get("db"))
                .withHttp(opts.getOrDefault("http-host", "0.0.0.0"), intOption(opts, "http-port", 8080));
        if (opts.containsKey("prices")) {
            options = options.withPrices(Path.of(opts.get("prices")));
        }
        if (opts.containsKey("client-id")) {
            options = options.withClientId(opts.get("client-id"));
        }
        BillingService service = BillingService.start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        EmbeddedBroker embedded = broker;
        Thread hook = new Thread(() -> {
            service.close();
            if (embedded != null) {
                embedded.close();
            }
            stopped.countDown();
        }, "tollgate-billing-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        stopped.await();
        return 0;
    }

    private static Map<String, String> options(List<String> args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--") || i + 1 >= args.size()) {
                throw new IllegalArgumentException("expected --option VALUE, got '" + a + "'");
            }
            out.put(a.substring(2), args.get(++i));
        }
        return out;
    }

    private static String required(Map<String, String> opts, String name) {
        String v = opts.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }

    private static int intOption(Map<String, String> opts, String name, int dflt) {
        String v = opts.get(name);
        try {
            return v == null ? dflt : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " '" + v + "' is not a number");
        }
    }

    static Path dataDir(Map<String, String> opts) {
        if (opts.containsKey("data")) {
            return Path.of(opts.get("data"));
        }
        String home = System.getProperty("tollgate.billing.home");
        return home != null ? Path.of(home, "data") : Path.of("data");
    }

    private static String dbUrl(Map<String, String> opts) {
        return opts.containsKey("db") ? opts.get("db") : Database.defaultUrl(dataDir(opts));
    }
}
