package io.tollgate.tools.keys;

import io.tollgate.endpoint.keys.ApiKey;
import io.tollgate.endpoint.keys.ApiKeyFile;
import io.tollgate.endpoint.keys.ApiKeyRole;
import io.tollgate.endpoint.keys.NewApiKey;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolException;
import io.tollgate.tools.ToolOutput;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The keys commands' work, through the endpoint's exported {@link ApiKeyFile}. */
final class KeyReports {
    private KeyReports() {
    }

    static int add(Path conf, String tenant, String roleLabel, List<String> models, String name, Path cert,
                   ToolOutput io) throws IOException, ToolException {
        ApiKeyFile file = ApiKeyFile.in(conf);
        ApiKeyRole role;
        try {
            role = ApiKeyRole.parse(roleLabel);
        } catch (IllegalArgumentException e) {
            throw new ToolException(ExitCodes.USAGE, "--role: " + e.getMessage());
        }
        try {
            if (cert != null) {
                ApiKey entry = file.addCertificate(tenant, role, models, name, cert);
                io.out().println(entry.id());
                io.err().println("bound the client certificate sha256 " + entry.certSha256() + " as entry " + entry.id()
                        + " (tenant " + entry.tenant() + ", role " + role.label() + scope(entry) + ") in " + file.path()
                        + "; a TLS client presenting it needs no key (the endpoint needs tls.client.auth=optional or "
                        + "require)");
                return ExitCodes.OK;
            }
            NewApiKey added = file.add(tenant, role, models, name);
            io.out().println(added.key());
            io.err().println("added key " + added.entry().id() + " (tenant " + tenant + ", role " + role.label()
                    + scope(added.entry()) + ") to " + file.path() + "; it is shown only now: store it. Clients send "
                    + "'Authorization: Bearer <key>'. The endpoint accepts it within a second, no restart.");
            return ExitCodes.OK;
        } catch (IllegalArgumentException e) {
            throw new ToolException(ExitCodes.USAGE, e.getMessage());
        } catch (IllegalStateException e) {
            throw new ToolException(ExitCodes.FAILED, e.getMessage());
        }
    }

    private static String scope(ApiKey k) {
        return k.models().isEmpty() ? "" : ", models " + String.join(",", k.models());
    }

    static int list(Path conf, PrintStream out) throws IOException {
        ApiKeyFile file = ApiKeyFile.in(conf);
        List<ApiKey> keys = file.read();
        if (keys.isEmpty()) {
            out.println("no API keys in " + file.path() + ": protected mode (only clients on the appliance itself are "
                    + "served); add one with bin/tollgate keys add --tenant T --role infer");
            return ExitCodes.OK;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "TENANT", "ROLE", "MODELS", "CREDENTIAL", "CREATED", "STATUS", "NAME"});
        for (ApiKey k : keys) {
            rows.add(new String[] {k.id(), k.tenant(), k.role().label(),
                k.models().isEmpty() ? "*" : String.join(",", k.models()),
                k.certificate() ? "cert sha256 " + k.certSha256().substring(0, 16) + "..." : "key",
                k.created().toString(), k.active() ? "active" : "revoked " + k.revoked(), k.name()});
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                widths[i] = Math.max(widths[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                line.append(i == r.length - 1 ? r[i] : String.format("%-" + widths[i] + "s  ", r[i]));
            }
            out.println(line.toString().stripTrailing());
        }
        return ExitCodes.OK;
    }

    static int revoke(Path conf, String id, PrintStream out) throws IOException, ToolException {
        ApiKeyFile file = ApiKeyFile.in(conf);
        Optional<ApiKey> revoked = file.revoke(id);
        if (revoked.isEmpty()) {
            throw new ToolException(ExitCodes.FAILED, "no entry '" + id + "' in " + file.path()
                    + "; bin/tollgate keys list shows the ids");
        }
        ApiKey k = revoked.get();
        out.println("revoked " + (k.certificate() ? "certificate " : "key ") + k.id() + " (tenant " + k.tenant()
                + ", role " + k.role().label() + ") at " + k.revoked() + "; the endpoint refuses it within a second, "
                + "no restart");
        return ExitCodes.OK;
    }
}
