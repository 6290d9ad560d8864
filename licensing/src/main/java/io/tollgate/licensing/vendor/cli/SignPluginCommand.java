package io.tollgate.licensing.vendor.cli;

import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.PluginSignatures;
import io.tollgate.licensing.Refusal;
import io.tollgate.licensing.vendor.PluginSigner;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "sign-plugin", mixinStandardHelpOptions = true,
        description = {"Sign a plugin jar with the vendor key (standard JAR signing, Ed25519; jarsigner -verify "
                + "accepts it). In place by default (atomically); the jar must not be signed already."})
final class SignPluginCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--key", required = true, paramLabel = "K", description = "the vendor's private key (vendor-private.pem)")
    Path key;

    @Option(names = "--out", paramLabel = "OUT", description = "write the signed jar here instead of replacing PLUGIN.jar")
    Path out;

    @Option(names = "--vendor", paramLabel = "NAME", description = "name in the signing certificate (default: vendor and the key's fingerprint)")
    String vendor;

    @Parameters(paramLabel = "PLUGIN.jar", description = "the plugin jar (bin/tollgate plugin pack makes one)")
    Path jar;

    @Override
    public Integer call() throws Exception {
        KeyPair pair = Keys.load(key);
        if (!Files.isRegularFile(jar)) {
            throw new NoSuchFileException(jar.toString(), null, "no such plugin jar");
        }
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
            zip.size();
        } catch (java.util.zip.ZipException e) {
            throw new VendorTool.Failure(VendorTool.FAILED, jar + " is not a jar (" + e.getMessage() + ")");
        }
        try {
            String signer = PluginSignatures.verify(jar);
            throw new VendorTool.Failure(VendorTool.FAILED, jar + " is already signed (by key " + signer
                    + "); sign the unsigned jar");
        } catch (LicenseException e) {
            if (e.refusal() != Refusal.UNSIGNED) {
                throw new VendorTool.Failure(VendorTool.FAILED, jar + " already carries a signature that does not "
                        + "verify (" + e.getMessage() + "); sign the unsigned jar");
            }
        }
        Path target = out == null ? jar : out;
        PluginSigner.sign(jar, target, pair.getPrivate(), pair.getPublic(),
                vendor == null ? Keys.defaultName(pair) : vendor);
        String signer = PluginSignatures.verify(target);
        spec.commandLine().getOut().println("signed " + target + " with key " + signer);
        return VendorTool.OK;
    }
}
