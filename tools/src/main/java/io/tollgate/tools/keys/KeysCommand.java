package io.tollgate.tools.keys;

import io.tollgate.tools.ConfCommand;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tollgate keys add|list|revoke}: the endpoint's API keys in {@code CONF/api-keys.json} (hashes only, 0600).
 * The running endpoint picks up every change within a second, without a restart.
 */
@Command(name = "keys", description = "API keys of the endpoint (CONF/api-keys.json): who may call it, as which tenant.",
        subcommands = {KeysCommand.Add.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class})
public final class KeysCommand {

    /** {@code keys add}. */
    @Command(name = "add", description = {
        "Add an API key and print it, once (the key file keeps only its hash).",
        "Clients send it as 'Authorization: Bearer <key>'; what it runs is billed to its tenant.",
        "With --cert, bind a TLS client certificate instead (prints the entry id)."})
    public static final class Add extends ConfCommand {
        @Option(names = "--tenant", required = true, paramLabel = "T",
                description = "Who is billed for what the key runs (1-64 of A-Z a-z 0-9 . _ -).")
        private String tenant;

        @Option(names = "--role", required = true, paramLabel = "infer|admin|metrics",
                description = "infer: inference and model metadata; metrics: GET /metrics; admin: everything, "
                        + "/admin/* and /v2/repository/* included.")
        private String role;

        @Option(names = "--models", split = ",", paramLabel = "M1,M2",
                description = "Limit an infer key to these models (default: every model).")
        private List<String> models = List.of();

        @Option(names = "--name", paramLabel = "N", description = "A label for people, e.g. \"line 7 camera\".")
        private String name = "";

        @Option(names = "--cert", paramLabel = "FILE",
                description = "Bind this PEM client certificate (mTLS) instead of making a key.")
        private Path cert;

        @Override
        public Integer call() throws Exception {
            return KeyReports.add(conf(), tenant, role, models, name, cert, io());
        }
    }

    /** {@code keys list}. */
    @Command(name = "list", description = "List the keys and certificates with their tenant, role, models and status "
            + "(never a key).")
    public static final class ListKeys extends ConfCommand {
        @Override
        public Integer call() throws Exception {
            return KeyReports.list(conf(), out());
        }
    }

    /** {@code keys revoke}. */
    @Command(name = "revoke", description = "Revoke a key or certificate by its id; the endpoint refuses it within a "
            + "second, no restart.")
    public static final class Revoke extends ConfCommand {
        @Parameters(paramLabel = "ID", description = "The id keys list shows (the 12 hex digits in tgk_<id>_...).")
        private String id;

        @Override
        public Integer call() throws Exception {
            return KeyReports.revoke(conf(), id, out());
        }
    }
}
