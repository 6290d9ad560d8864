package io.tollgate.licensing.vendor.cli;

import io.tollgate.licensing.Pem;
import io.tollgate.licensing.vendor.VendorKeys;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "keygen", mixinStandardHelpOptions = true,
        description = {"Generate the vendor's Ed25519 signing key pair: DIR/vendor-private.pem (mode 0600, keep it "
                + "secret) and DIR/vendor-public.pem (what appliances trust: bin/tollgate vendor trust). Never "
                + "overwrites a key."})
final class KeygenCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "folder for the key files (created)")
    Path out;

    @Override
    public Integer call() throws Exception {
        KeyPair pair;
        try {
            pair = VendorKeys.generate(out);
        } catch (FileAlreadyExistsException e) {
            throw new VendorTool.Failure(VendorTool.FAILED, e.getFile() + " already exists (a vendor key is never"
                    + " overwritten; choose another --out)");
        }
        var o = spec.commandLine().getOut();
        o.println("private key: " + out.resolve(VendorKeys.PRIVATE_FILE) + " (0600, keep it secret)");
        o.println("public key:  " + out.resolve(VendorKeys.PUBLIC_FILE));
        o.println("fingerprint: " + Pem.fingerprint(pair.getPublic()));
        return VendorTool.OK;
    }
}
