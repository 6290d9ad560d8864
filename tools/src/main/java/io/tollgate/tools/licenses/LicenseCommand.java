package io.tollgate.tools.licenses;

import io.tollgate.tools.ConfCommand;
import io.tollgate.tools.DataDirOption;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code tollgate license install|list|remove}: the license files of the box ({@code licenses/*.lic}, revocation
 * lists {@code *.revocations}; docs/licensing.md). Offline file edits: a running appliance picks each change up
 * within a few seconds (a plugin waiting for its license starts; one whose license went stops).
 */
@Command(name = "license", description = "Licenses (LICENSES/*.lic) and revocation lists: which plugins this box may "
        + "serve.",
        subcommands = {LicenseCommand.Install.class, LicenseCommand.ListLicenses.class, LicenseCommand.Remove.class})
public final class LicenseCommand {

    /** {@code license install}. */
    @Command(name = "install", description = {
        "Install a license file (.lic) or a revocation list (.revocations) after verifying its signature against",
        "the trusted vendors; a bad one is refused with the reason and nothing is written."})
    public static final class Install extends ConfCommand {
        @Parameters(index = "0", paramLabel = "FILE", description = "The license or revocation list.")
        private Path file;

        @Mixin
        private LicensesDirOption licenses;

        @Mixin
        private DataDirOption data;

        @Override
        public Integer call() throws Exception {
            return LicenseReports.install(conf(), licenses.resolve(), data.resolve(), file, io());
        }
    }

    /** {@code license list}. */
    @Command(name = "list", description = "List the licenses with their state on this device, and refused files.")
    public static final class ListLicenses extends ConfCommand {
        @Mixin
        private LicensesDirOption licenses;

        @Mixin
        private DataDirOption data;

        @Override
        public Integer call() throws Exception {
            return LicenseReports.list(conf(), licenses.resolve(), data.resolve(), io());
        }
    }

    /** {@code license remove}. */
    @Command(name = "remove", description = "Remove a license by id: the plugins it entitled stop.")
    public static final class Remove extends ConfCommand {
        @Parameters(index = "0", paramLabel = "ID", description = "The license id (license list shows it).")
        private String id;

        @Mixin
        private LicensesDirOption licenses;

        @Override
        public Integer call() throws Exception {
            return LicenseReports.remove(conf(), licenses.resolve(), id, io());
        }
    }
}
