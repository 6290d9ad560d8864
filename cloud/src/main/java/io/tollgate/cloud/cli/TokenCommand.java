package io.tollgate.cloud.cli;

import io.tollgate.cloud.auth.ApiRole;
import io.tollgate.cloud.auth.ApiToken;
import io.tollgate.cloud.auth.ApiTokens;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolException;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code tollgate-billing token create|list|revoke}: the billing API's bearer tokens (docs/billing.md). */
@Command(name = "token", description = "The billing HTTP API's bearer tokens (stored hashed in DATA/auth/api-tokens.json).",
        subcommands = {TokenCommand.Create.class, TokenCommand.ListTokens.class, TokenCommand.Revoke.class})
public final class TokenCommand {

    /** {@code token create}. */
    @Command(name = "create", description = {
        "Create a token and print it once on stdout (only its SHA-256 is kept). A running service accepts it at once.",
        "Roles: admin (everything), reader (GET only; with --tenant only that tenant's data), enroll (only POST "
            + "/v1/devices of new device ids; with --tenant only into that tenant)."})
    public static final class Create extends BillingWork {
        @Spec
        private CommandSpec spec;

        private ApiRole role;
        private String tenant;

        @Option(names = "--role", required = true, paramLabel = "admin|reader|enroll", description = "What it may do.")
        private void role(String value) {
            try {
                role = ApiRole.parse(value);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--role must be admin, reader or enroll, not "
                        + ToolException.quote(value));
            }
        }

        @Option(names = "--tenant", paramLabel = "T", description = "Limit a reader or enroll token to one tenant.")
        private void tenant(String value) {
            if (!ApiTokens.TENANT.matcher(value).matches()) {
                throw new ParameterException(spec.commandLine(), "--tenant " + ToolException.quote(value) + " is not a "
                        + "tenant: 1 to 63 of a-z 0-9 . _ - starting with a letter or digit");
            }
            tenant = value;
        }

        @Option(names = "--name", paramLabel = "N", description = "A name to recognise it by in token list.")
        private String name = "";

        @Override
        int work() throws ToolException, IOException {
            if (tenant != null && role == ApiRole.ADMIN) {
                throw new ToolException(ExitCodes.USAGE, "--tenant limits reader and enroll tokens; an admin token "
                        + "is for every tenant");
            }
            if (!name.matches("[\\x20-\\x7e]{0,64}")) {
                throw new ToolException(ExitCodes.USAGE, "--name must be up to 64 printable ASCII characters");
            }
            ApiTokens.Created c = ApiTokens.create(data.dataDir(), role, tenant, name);
            out().println(c.secret());
            err().println("created " + c.token().describe() + "; the token above is shown only now");
            return ExitCodes.OK;
        }
    }

    /** {@code token list}. */
    @Command(name = "list", description = "List the tokens: id, name, role, tenant, created (never the token).")
    public static final class ListTokens extends BillingWork {
        @Override
        int work() throws IOException {
            for (ApiToken t : ApiTokens.list(data.dataDir())) {
                out().println(t.id() + "\t" + t.name() + "\t" + t.role().label() + "\t"
                        + (t.tenant() == null ? "*" : t.tenant()) + "\t" + t.created());
            }
            return ExitCodes.OK;
        }
    }

    /** {@code token revoke}. */
    @Command(name = "revoke", description = "Revoke a token by its id (token list); a running service refuses it at "
            + "once.")
    public static final class Revoke extends BillingWork {
        @Parameters(paramLabel = "ID", description = "The token's id, as token list shows it.")
        private String id;

        @Override
        int work() throws ToolException, IOException {
            if (!ApiTokens.revoke(data.dataDir(), id)) {
                throw new ToolException(ExitCodes.FAILED, "no token with id " + id + " (tollgate-billing token list)");
            }
            out().println("revoked " + id);
            return ExitCodes.OK;
        }
    }
}
