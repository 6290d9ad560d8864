package io.tollgate.licensing.vendor.cli;

import io.tollgate.licensing.License;
import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.LicenseFiles;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.vendor.LicenseIssuer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "issue", mixinStandardHelpOptions = true,
        description = {"Issue a license file (docs/licensing.md). Without --device-id an unbound license (any "
                + "device: free or evaluation plugins; quotas still count per device).",
                "DATE: an ISO date (00:00 UTC that day) or an instant, e.g. 2027-01-31 or 2027-01-31T12:00:00Z."})
final class IssueCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--key", required = true, paramLabel = "K", description = "the vendor's private key")
    Path key;

    @Option(names = "--vendor", paramLabel = "NAME", description = "vendor display name (default: vendor and the key's fingerprint)")
    String vendor;

    @Option(names = "--device-id", paramLabel = "ID", description = "bind to this device id (bin/tollgate device id)")
    String deviceId;

    @Option(names = "--device-key", paramLabel = "PEM", description = "the device's public key file (bin/tollgate device pubkey); with --device-id")
    Path deviceKey;

    @Option(names = "--tenant", required = true, paramLabel = "T", description = "the tenant billed")
    String tenant;

    @Option(names = "--plugin", required = true, paramLabel = "NAME", description = "the plugin (model) name, the descriptor's name")
    String plugin;

    @Option(names = "--versions", required = true, paramLabel = "RANGE", description = "OSGi version range, e.g. [1.0.0,2.0.0)")
    String versions;

    @Option(names = "--not-before", paramLabel = "DATE", converter = Dates.class, description = "valid from (default: now)")
    Instant notBefore;

    @Option(names = "--expires", paramLabel = "DATE", converter = Dates.class, description = "not valid from then on (default: never)")
    Instant expires;

    @Option(names = "--quota", paramLabel = "N", description = "prepaid quantity of the meter on the device (default: unlimited)")
    Long quota;

    @Option(names = "--meter", paramLabel = "M", defaultValue = "inference", description = "the meter (default: ${DEFAULT-VALUE})")
    String meter;

    @Option(names = "--grace-days", paramLabel = "D", description = "days the box may serve without a cloud ack (default: no limit)")
    Long graceDays;

    @Option(names = "--allow-code", description = "the plugin may carry code")
    boolean allowCode;

    @Option(names = "--id", paramLabel = "ID", description = "license id (default: a random UUID)")
    String id;

    @Option(names = "--model-key", paramLabel = "KEY", description = "an encrypted model's key file (encrypt-model "
            + "--key-out); repeatable; needs --device-id and --device-wrap-key")
    java.util.List<Path> modelKeys = new java.util.ArrayList<>();

    @Option(names = "--device-wrap-key", paramLabel = "PEM", description = "the device's X25519 wrap public key "
            + "(bin/tollgate device wrap-key), that --model-key is wrapped for")
    Path wrapKey;

    @Option(names = "--out", required = true, paramLabel = "F.lic", description = "the license file to write")
    Path out;

    @Override
    public Integer call() throws Exception {
        if ((deviceId == null) != (deviceKey == null)) {
            throw new VendorTool.Failure(VendorTool.USAGE, "--device-id and --device-key go together (neither = an unbound license)");
        }
        if (quota != null && quota < 0 || graceDays != null && graceDays < 0) {
            throw new VendorTool.Failure(VendorTool.USAGE, "--quota and --grace-days must be >= 0");
        }
        if (!modelKeys.isEmpty() && deviceId == null) {
            throw new VendorTool.Failure(VendorTool.USAGE, "--model-key needs a bound license: a model key is wrapped"
                    + " for one device, so give --device-id, --device-key and --device-wrap-key");
        }
        if (!modelKeys.isEmpty() != (wrapKey != null)) {
            throw new VendorTool.Failure(VendorTool.USAGE, "--model-key and --device-wrap-key go together");
        }
        KeyPair pair = Keys.load(key);
        LicenseIssuer issuer = new LicenseIssuer(vendor == null ? Keys.defaultName(pair) : vendor, pair.getPrivate(),
                pair.getPublic());
        if (deviceId != null) {
            if (!Files.isRegularFile(deviceKey)) {
                throw new NoSuchFileException(deviceKey.toString(), null, "no such device key file");
            }
            PublicKey device;
            try {
                device = Pem.readPublicKey(deviceKey);
            } catch (NoSuchFileException e) {
                throw e;
            } catch (IOException e) {
                throw new VendorTool.Failure(VendorTool.FAILED, e.getMessage());
            }
            issuer.device(deviceId, device);
        }
        if (wrapKey != null) {
            PublicKey wrap;
            try {
                wrap = io.tollgate.licensing.wrap.ModelKeyWrap.readPublicKey(wrapKey);
            } catch (NoSuchFileException e) {
                throw e;
            } catch (IOException e) {
                throw new VendorTool.Failure(VendorTool.FAILED, e.getMessage());
            }
            for (Path k : modelKeys) {
                io.tollgate.licensing.vendor.ModelKeyFile mk;
                try {
                    mk = io.tollgate.licensing.vendor.ModelKeyFile.read(k);
                } catch (NoSuchFileException e) {
                    throw e;
                } catch (IOException e) {
                    throw new VendorTool.Failure(VendorTool.FAILED, e.getMessage());
                }
                try {
                    issuer.modelKey(mk.keyId(), mk.key(), wrap);
                } catch (IllegalArgumentException e) {
                    throw new VendorTool.Failure(VendorTool.USAGE, e.getMessage());
                }
            }
        }
        byte[] file;
        try {
            if (id != null) {
                issuer.id(id);
            }
            file = issuer.tenant(tenant).plugin(plugin).versions(versions).notBefore(notBefore).expires(expires)
                    .quota(quota, meter).graceDays(graceDays).allowCode(allowCode).issue();
        } catch (IllegalArgumentException e) {
            throw new VendorTool.Failure(VendorTool.USAGE, e.getMessage());
        }
        License license;
        try {
            // what the appliance will do with it: a license it would refuse is never written
            license = LicenseFiles.read(file, Map.of(Pem.fingerprint(pair.getPublic()), pair.getPublic()));
        } catch (LicenseException e) {
            throw new VendorTool.Failure(VendorTool.USAGE, e.getMessage());
        }
        Keys.write(out, file);
        var o = spec.commandLine().getOut();
        o.println("issued license " + license.id() + " to " + out);
        InspectCommand.print(o, license);
        return VendorTool.OK;
    }
}
