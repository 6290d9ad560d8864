package io.tollgate.licensing.vendor.cli;

import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.LicenseFiles;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.vendor.RevocationIssuer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "revoke", mixinStandardHelpOptions = true,
        description = {"Write a signed revocation list. When --out already holds a list of this vendor, its ids "
                + "are kept (a list only grows), so replacing the file on the appliances never un-revokes."})
final class RevokeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--key", required = true, paramLabel = "K", description = "the vendor's private key")
    Path key;

    @Option(names = "--out", required = true, paramLabel = "F.revocations", description = "the revocation list to write")
    Path out;

    @Parameters(arity = "1..*", paramLabel = "LICENSE-ID", description = "ids of the licenses to revoke")
    List<String> ids;

    @Override
    public Integer call() throws Exception {
        KeyPair pair = Keys.load(key);
        Set<String> all = new LinkedHashSet<>();
        if (Files.exists(out)) {
            try {
                all.addAll(LicenseFiles.readRevocations(Files.readAllBytes(out),
                        Map.of(Pem.fingerprint(pair.getPublic()), pair.getPublic())));
            } catch (LicenseException e) {
                throw new VendorTool.Failure(VendorTool.FAILED, out + " exists and is not a revocation list of this "
                        + "key (" + e.getMessage() + "); choose another --out");
            }
        }
        int before = all.size();
        for (String id : ids) {
            if (id.isBlank()) {
                throw new VendorTool.Failure(VendorTool.USAGE, "a license id is empty");
            }
            all.add(id);
        }
        Keys.write(out, RevocationIssuer.issue(pair.getPrivate(), pair.getPublic(), all, null));
        spec.commandLine().getOut().println("revoked " + (all.size() - before) + " new, " + all.size() + " in all: "
                + out);
        return VendorTool.OK;
    }
}
