package io.tollgate.cloud.cli;

import io.tollgate.cloud.DataDirectory;
import io.tollgate.cloud.ledger.Database;
import io.tollgate.cloud.ledger.LedgerException;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.PathValues;
import io.tollgate.tools.ToolException;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code --db JDBC-URL} and {@code --db-password-file FILE}, for the commands that open the ledger. A password never
 * travels on the command line (ps, shell history, logs): a {@code --db} that carries one is refused.
 */
final class LedgerOption {
    /** password=…, or user:password@ in the authority, after %-decoding, in any case. */
    private static final Pattern PASSWORD_IN_URL = Pattern.compile("(?i)(password\\s*=)|(//[^/@?;]*:[^/@?;]*@)");

    /** jdbc:h2:tcp: / jdbc:h2:ssl:, or an AUTO_SERVER / AUTO_SERVER_PORT setting in an H2 URL, in any case. */
    private static final Pattern H2_SERVER_URL = Pattern.compile(
            "(?i)^\\s*jdbc:h2:(?:(?:tcp|ssl):|.*auto_server)", Pattern.DOTALL);

    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    private String db;
    private Path passwordFile;

    @Option(names = "--db", paramLabel = "JDBC-URL",
            description = "Ledger database, e.g. jdbc:postgresql://host:5432/tollgate?user=billing (default: embedded "
                    + "H2 in DIR/ledger.mv.db). No password here: use --db-password-file.")
    private void db(String value) {
        if (carriesPassword(value)) {
            throw new ParameterException(command.commandLine(), "--db carries a password; put it in a file readable "
                    + "only by you (chmod 600 FILE) and give --db-password-file FILE");
        }
        if (opensH2Server(value)) {
            throw new ParameterException(command.commandLine(), "--db opens an H2 server or a remote H2 connection "
                    + "(AUTO_SERVER, AUTO_SERVER_PORT, jdbc:h2:tcp: or jdbc:h2:ssl:); the ledger is never on the "
                    + "network: give an embedded jdbc:h2:file: URL, or PostgreSQL for a shared ledger");
        }
        db = value;
    }

    @Option(names = "--db-password-file", paramLabel = "FILE",
            description = "File holding the ledger database's password (mode 0600 or 0400; one line).")
    private void passwordFile(String value) {
        passwordFile = PathValues.nonEmpty(command, "--db-password-file", value);
    }

    static boolean carriesPassword(String url) {
        return PASSWORD_IN_URL.matcher(decoded(url).toLowerCase(Locale.ROOT)).find()
                || PASSWORD_IN_URL.matcher(url).find();
    }

    /**
     * An H2 URL that makes H2 listen (AUTO_SERVER, AUTO_SERVER_PORT: a TCP server on every interface) or connect to
     * one (tcp:, ssl:), after %-decoding, in any case. The AUTO_SERVER settings are refused whatever their value.
     */
    static boolean opensH2Server(String url) {
        return H2_SERVER_URL.matcher(decoded(url)).find() || H2_SERVER_URL.matcher(url).find();
    }

    private static String decoded(String url) {
        try {
            return URLDecoder.decode(url.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return url;
        }
    }

    /** {@code --db} as given (null = the embedded default). */
    String option() {
        return db;
    }

    /**
     * The password from {@code --db-password-file}, or null. A file that cannot be read is exit 3; one that group or
     * others may read, exit 1.
     */
    String password() throws ToolException {
        if (passwordFile == null) {
            return null;
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(passwordFile);
            if (perms.stream().anyMatch(p -> p != PosixFilePermission.OWNER_READ
                    && p != PosixFilePermission.OWNER_WRITE)) {
                throw new ToolException(ExitCodes.FAILED, "--db-password-file " + passwordFile + " may be read by "
                        + "others (" + java.nio.file.attribute.PosixFilePermissions.toString(perms) + "); chmod 600 "
                        + passwordFile);
            }
            String text = Files.readString(passwordFile, StandardCharsets.UTF_8);
            return text.endsWith("\r\n") ? text.substring(0, text.length() - 2)
                    : text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot read --db-password-file " + passwordFile + ": "
                    + PathValues.reason(e), e);
        }
    }

    /** Opens the ledger of {@code --db} (with the password file's password) or the embedded one in {@code dataDir}. */
    Database open(Path dataDir) throws ToolException, LedgerException {
        if (db == null) {
            try {
                DataDirectory.ensure(dataDir);
            } catch (IOException e) {
                throw new ToolException(ExitCodes.IO_ERROR, "cannot create the data folder " + dataDir + ": "
                        + PathValues.reason(e), e);
            }
        }
        return Database.open(jdbcUrl(dataDir), password());
    }

    /** As {@link #open}, for commands that only read: the embedded ledger must exist. */
    Database openExisting(Path dataDir) throws ToolException, LedgerException {
        return Database.open(existingJdbcUrl(dataDir), password());
    }

    /** {@code --db}, else the embedded H2 ledger in {@code dataDir} (created when it is not there). */
    String jdbcUrl(Path dataDir) {
        return db != null ? db : Database.defaultUrl(dataDir);
    }

    /**
     * As {@link #jdbcUrl}, for commands that only read: the embedded ledger must exist (H2 would create an empty one,
     * and the command would report an empty ledger for a mistyped --data), else {@link ExitCodes#IO_ERROR}.
     */
    String existingJdbcUrl(Path dataDir) throws ToolException {
        Path file = dataDir.resolve("ledger.mv.db");
        if (db == null && !Files.isRegularFile(file)) {
            throw new ToolException(ExitCodes.IO_ERROR, "no ledger at " + file + "; give the billing endpoint's data "
                    + "folder (--data) or its database (--db)");
        }
        return jdbcUrl(dataDir);
    }
}
