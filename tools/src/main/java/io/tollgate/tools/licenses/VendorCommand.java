package io.tollgate.tools.licenses;

import io.tollgate.tools.ConfCommand;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tollgate vendor trust|list|remove}: the trusted vendors of the box, one Ed25519 public key (PEM) per file in
 * {@code CONF/vendors/NAME.pem} (docs/licensing.md, "On the appliance"). A plugin resolves only when a trusted vendor
 * signed it; a license counts only when a trusted vendor signed it. A running appliance picks up every change within
 * a few seconds, without a restart.
 */
@Command(name = "vendor", description = "Trusted plugin vendors (CONF/vendors/*.pem): whose signed plugins and "
        + "licenses this box accepts.",
        subcommands = {VendorCommand.Trust.class, VendorCommand.ListVendors.class, VendorCommand.Remove.class})
public final class VendorCommand {

    /** {@code vendor trust}. */
    @Command(name = "trust", description = {
        "Trust a vendor's public key (PEM, Ed25519: what tollgate-vendor keygen writes as vendor-public.pem).",
        "Its signed plugins install, with a license it signed; the running appliance picks it up within seconds."})
    public static final class Trust extends ConfCommand {
        @Parameters(index = "0", paramLabel = "PUB.pem", description = "The vendor's public key.")
        private Path key;

        @Option(names = "--name", paramLabel = "N", description = "The vendor's name on this box (1-64 of "
                + "A-Z a-z 0-9 . _ -; default: the file's name without .pem).")
        private String name;

        @Override
        public Integer call() throws Exception {
            return LicenseReports.trust(conf(), key, name, io());
        }
    }

    /** {@code vendor list}. */
    @Command(name = "list", description = "List the trusted vendors: name, key fingerprint (SHA-256), file.")
    public static final class ListVendors extends ConfCommand {
        @Override
        public Integer call() throws Exception {
            return LicenseReports.vendors(conf(), io());
        }
    }

    /** {@code vendor remove}. */
    @Command(name = "remove", description = {
        "Stop trusting a vendor (by name or key fingerprint): its plugins stop, their licenses no longer count."})
    public static final class Remove extends ConfCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "The vendor's name or key fingerprint.")
        private String vendor;

        @Override
        public Integer call() throws Exception {
            return LicenseReports.untrust(conf(), vendor, io());
        }
    }
}
