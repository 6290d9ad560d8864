package io.tollgate.licensing.vendor.cli;

import io.tollgate.licensing.License;
import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.LicenseFiles;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.PluginSignatures;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.CodeSigner;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Enumeration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Print a license, a revocation list or a plugin jar's signature, and whether it verifies. "
                + "A license or list verifies only against a vendor key: give --trust. Exit 1 when it does not verify."})
final class InspectCommand implements Callable<Integer> {
    private static final Pattern PAYLOAD = Pattern.compile("\"payload\"\\s*:\\s*\"([A-Za-z0-9+/=]*)\"");

    @Spec
    CommandSpec spec;

    @Option(names = "--trust", paramLabel = "PUB.pem", description = "the vendor's public key: also check the file is this vendor's")
    Path trust;

    @Parameters(paramLabel = "FILE", description = "a .lic, .revocations or plugin .jar file")
    Path file;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such file");
        }
        PublicKey vendor = null;
        if (trust != null) {
            if (!Files.isRegularFile(trust)) {
                throw new NoSuchFileException(trust.toString(), null, "no such key file");
            }
            try {
                vendor = Pem.readPublicKey(trust);
            } catch (NoSuchFileException e) {
                throw e;
            } catch (IOException e) {
                throw new VendorTool.Failure(VendorTool.FAILED, e.getMessage());
            }
        }
        byte[] bytes = Files.readAllBytes(file);
        PrintWriter o = spec.commandLine().getOut();
        if (bytes.length >= 4 && bytes[0] == 'P' && bytes[1] == 'K') {
            return jar(o, vendor);
        }
        String format = LicenseFiles.format(bytes);
        o.println("file:      " + file);
        o.println("format:    " + format);
        if (vendor == null) {
            Matcher m = PAYLOAD.matcher(new String(bytes, StandardCharsets.UTF_8));
            if (m.find()) {
                o.println("payload:   " + new String(Base64.getDecoder().decode(m.group(1)), StandardCharsets.UTF_8));
            }
            o.println("signature: not checked (give --trust VENDOR-PUBLIC.pem to verify it)");
            return VendorTool.OK;
        }
        Map<String, PublicKey> trusted = Map.of(Pem.fingerprint(vendor), vendor);
        try {
            return verified(o, format, bytes, trusted);
        } catch (LicenseException e) {
            if (e.refusal() == io.tollgate.licensing.Refusal.UNKNOWN_VENDOR) {
                throw new VendorTool.Failure(VendorTool.FAILED, file + " is not signed by " + trust + " ("
                        + e.getMessage() + ")");
            }
            throw e;
        }
    }

    private int verified(PrintWriter o, String format, byte[] bytes, Map<String, PublicKey> trusted)
            throws LicenseException {
        if (format.equals(LicenseFiles.REVOCATIONS_FORMAT)) {
            LicenseFiles.Revocations list = LicenseFiles.revocationList(bytes, trusted);
            o.println("vendor key: " + list.vendorKey());
            o.println("issued at:  " + list.issuedAt());
            o.println("revoked:    " + String.join(", ", list.revoked()));
        } else {
            print(o, LicenseFiles.read(bytes, trusted));
        }
        o.println("signature: verifies with " + trust);
        return VendorTool.OK;
    }

    private int jar(PrintWriter o, PublicKey vendor) throws Exception {
        o.println("plugin:    " + file);
        String signer;
        try {
            signer = PluginSignatures.verify(file);
        } catch (LicenseException e) {
            o.println("signature: " + e.getMessage());
            throw e;
        }
        o.println("signer:    " + signer + subject());
        o.println("signature: verifies (every entry signed, none added, removed or changed)");
        if (vendor != null) {
            String expected = Pem.fingerprint(vendor);
            if (!expected.equals(signer)) {
                throw new VendorTool.Failure(VendorTool.FAILED, file + " is signed by key " + signer + ", not by "
                        + trust + " (" + expected + ")");
            }
            o.println("vendor:    " + trust + " (trusted)");
        }
        return VendorTool.OK;
    }

    private String subject() throws IOException {
        try (JarFile jar = new JarFile(file.toFile(), true)) {
            for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                JarEntry entry = e.nextElement();
                if (entry.isDirectory() || entry.getName().startsWith("META-INF/")) {
                    continue;
                }
                jar.getInputStream(entry).readAllBytes();
                CodeSigner[] signers = entry.getCodeSigners();
                if (signers != null && signers.length == 1) {
                    var cert = signers[0].getSignerCertPath().getCertificates().get(0);
                    if (cert instanceof X509Certificate x) {
                        return " (" + x.getSubjectX500Principal().getName() + ")";
                    }
                }
            }
        }
        return "";
    }

    static void print(PrintWriter o, License l) {
        o.println("license:    " + l.id());
        o.println("vendor:     " + l.vendor() + " (key " + l.vendorKey() + ")");
        o.println("tenant:     " + l.tenant());
        o.println("device:     " + (l.bound() ? l.deviceId() + " (key " + l.deviceKey() + ")" : "any (unbound)"));
        o.println("plugin:     " + l.plugin() + " " + l.versions());
        o.println("valid:      from " + l.notBefore() + (l.expires().equals(java.time.Instant.MAX) ? ", never expires"
                : " until " + l.expires()));
        o.println("quota:      " + (l.hasQuota() ? l.quota() + " " + l.meter() : "unlimited (meter " + l.meter() + ")"));
        o.println("grace:      " + (l.graceDays() == License.UNLIMITED ? "no limit" : l.graceDays() + " days"));
        o.println("code:       " + (l.allowCode() ? "allowed" : "not allowed"));
        o.println("issued at:  " + l.issuedAt());
        for (var k : l.modelKeys()) {
            // the key id and whom it is wrapped for; never the key
            o.println("model key:  " + k.keyId() + " (wrapped for wrap key " + k.wrapKey() + ")");
        }
    }
}
