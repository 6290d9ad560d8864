package io.tollgate.tools;

import picocli.CommandLine.Command;

/**
 * {@code tollgate}: the top of the command tree. Its subcommands are added by {@link Tools} (the runtime adds
 * {@code run}); {@code --help} is inherited by every command below it ({@link RootCommand}).
 *
 * <p>The launcher starts the appliance ({@code run}) with only {@code lib/} on its class path, without the bundle
 * jars; picocli still reflects on every command class to build the tree. So command classes (the ones annotated
 * {@code @Command}) name no type from a bundle: not in fields, method signatures, lambdas or catch clauses. They
 * parse, then call a report or packer class of their package, which does the work with the bundles' exported
 * entry points. {@code LauncherClassPathTest} holds this.
 */
@Command(name = "tollgate",
        description = "Tollgate, a metered edge inference appliance: start it, make plugins, read its usage journal.",
        synopsisSubcommandLabel = "<command>",
        versionProvider = ProductVersion.class,
        commandListHeading = "%nCommands (tollgate <command> --help for its options):%n",
        footerHeading = "%nExit codes:%n",
        // One line each within the 80 columns picocli wraps at (a wrapped line would lose its indentation).
        footer = {
            "  0    done",
            "  1    failed: a journal that does not verify, a model that cannot load,",
            "       a port in use, a descriptor that is not JSON",
            "  2    bad command line (unknown command or option, missing or bad value)",
            "  3    files missing or unreadable (a folder that is a file, a missing --conf)",
            "  143  run stopped by SIGTERM: a clean stop (systemd: SuccessExitStatus=143)"})
public final class TollgateCommand extends RootCommand {
}
