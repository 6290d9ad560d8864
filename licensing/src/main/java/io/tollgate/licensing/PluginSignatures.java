package io.tollgate.licensing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.CodeSigner;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Verifies a plugin jar's vendor signature (docs/licensing.md, "Plugin signatures"): standard JAR signing, as
 * {@code jarsigner -verify} checks it, with the JDK's {@link JarFile} verifier, plus the rules JAR signing alone
 * does not give. A plugin is signed by vendor K when
 * <ul>
 * <li>every entry except directories and the signature files ({@code META-INF/MANIFEST.MF},
 * {@code META-INF/*.SF}, {@code *.RSA}, {@code *.DSA}, {@code *.EC}, {@code SIG-*}) is signed by exactly one
 * signer, the same for all entries, whose certificate's public key is Ed25519 with fingerprint K;</li>
 * <li>no entry is unsigned (an added entry is refused), and every entry the manifest lists with a digest is in the
 * jar (a removed entry is refused);</li>
 * <li>the manifest's main section is covered by the signature (changed OSGi headers are refused).</li>
 * </ul>
 * JDK only; reads every entry fully (cost: one pass over the jar).
 *
 * @since 1.0
 */
public final class PluginSignatures {
    private PluginSignatures() {
    }

    /**
     * Verifies a plugin jar's signature.
     *
     * @param jar the plugin jar
     * @return the signer's key fingerprint ({@link Pem#fingerprint}, 64 hex digits); whether it is a trusted vendor
     *         is the caller's question ({@link LicenseRules#decide})
     * @throws LicenseException {@link Refusal#UNSIGNED} when the jar carries no signature at all;
     *                          {@link Refusal#TAMPERED} (the message names the entry) when any entry was changed,
     *                          added or removed after signing, a signature does not verify, signers differ, the
     *                          key is not Ed25519, or the file is not a readable jar
     */
    public static String verify(Path jar) throws LicenseException {
        return verify(jar, jar.getFileName().toString());
    }

    /**
     * {@link #verify(Path)}, with the messages naming the plugin as {@code shownAs} rather than by {@code jar}'s file
     * name: the framework verifies its own copy ({@code bundle.jar}), the operator knows the plugin's name, version and
     * file in {@code plugins/}.
     *
     * @param shownAs what messages call the plugin, e.g. {@code fashion-mnist 1.0.0 (file fashion-mnist-1.0.0.jar in
     *                plugins/)}
     * @since 1.1
     */
    public static String verify(Path jar, String shownAs) throws LicenseException {
        String name = shownAs;
        try (JarFile file = new JarFile(jar.toFile(), true)) {
            List<JarEntry> entries = new ArrayList<>();
            boolean hasSignatureBlock = false;
            Set<String> names = new HashSet<>();
            for (Enumeration<JarEntry> e = file.entries(); e.hasMoreElements(); ) {
                JarEntry entry = e.nextElement();
                if (!names.add(entry.getName())) {
                    throw tampered(name, "entry " + entry.getName() + " appears twice");
                }
                if (isSignatureBlock(entry.getName())) {
                    hasSignatureBlock = true;
                }
                entries.add(entry);
            }
            if (!hasSignatureBlock) {
                throw new LicenseException(Refusal.UNSIGNED, Refusal.UNSIGNED.words() + ": plugin " + name
                        + " carries no signature (sign it with tollgate-vendor sign-plugin)");
            }
            Manifest manifest = file.getManifest();
            if (manifest == null) {
                throw tampered(name, "META-INF/MANIFEST.MF is missing");
            }
            byte[] buffer = new byte[8192];
            String fingerprint = null;
            Set<Certificate> checkedCerts = new HashSet<>();
            X509Certificate signerCert = null;
            for (JarEntry entry : entries) {
                try (InputStream in = file.getInputStream(entry)) {
                    while (in.read(buffer) >= 0) {
                        // reading the entry verifies its digest; a mismatch throws SecurityException
                    }
                } catch (RuntimeException | IOException ex) {
                    throw tampered(name, "entry " + entry.getName() + " does not match its signature ("
                            + ex.getMessage() + ")");
                }
                if (entry.isDirectory() || isSignatureFile(entry.getName())) {
                    continue;
                }
                CodeSigner[] signers = entry.getCodeSigners();
                if (signers == null || signers.length == 0) {
                    throw tampered(name, "entry " + entry.getName() + " is not signed (added or changed after signing)");
                }
                if (signers.length != 1) {
                    throw tampered(name, "entry " + entry.getName() + " has " + signers.length
                            + " signers, a plugin has exactly one");
                }
                List<? extends Certificate> certs = signers[0].getSignerCertPath().getCertificates();
                if (certs.isEmpty()) {
                    throw tampered(name, "entry " + entry.getName() + " has a signer without a certificate");
                }
                PublicKey key = certs.get(0).getPublicKey();
                if (certs.size() != 1) {
                    throw tampered(name, "entry " + entry.getName() + " is signed with a chain of " + certs.size()
                            + " certificates, a plugin with one self-signed vendor certificate");
                }
                if (checkedCerts.add(certs.get(0))) {
                    try {
                        certs.get(0).verify(key);
                    } catch (java.security.GeneralSecurityException ex) {
                        throw tampered(name, "the signer's certificate is not self-signed by the vendor key ("
                                + ex.getMessage() + ")");
                    }
                }
                if (!"EdDSA".equals(key.getAlgorithm()) && !"Ed25519".equals(key.getAlgorithm())) {
                    throw tampered(name, "entry " + entry.getName() + " is signed with a " + key.getAlgorithm()
                            + " key, a plugin is signed with an Ed25519 vendor key");
                }
                String fp = Pem.fingerprint(key);
                if (fingerprint == null) {
                    fingerprint = fp;
                    signerCert = (X509Certificate) certs.get(0);
                } else if (!fingerprint.equals(fp)) {
                    throw tampered(name, "entry " + entry.getName() + " is signed by key " + fp
                            + ", other entries by " + fingerprint);
                }
            }
            if (fingerprint == null) {
                throw tampered(name, "no signed entry (the signature covers nothing)");
            }
            manifestDigests(file, entries, name);
            signatureBlock(file, entries, name, signerCert);
            for (Map.Entry<String, Attributes> section : manifest.getEntries().entrySet()) {
                boolean hasDigest = section.getValue().keySet().stream()
                        .anyMatch(k -> k.toString().toUpperCase(Locale.ROOT).endsWith("-DIGEST"));
                if (hasDigest && !names.contains(section.getKey())) {
                    throw tampered(name, "entry " + section.getKey() + " was signed but is missing (removed)");
                }
            }
            return fingerprint;
        } catch (RuntimeException e) {
            // SecurityException from the JDK's verifier, or a parse error deep in a corrupted signature block
            throw tampered(name, "the signature does not verify (" + e + ")");
        } catch (IOException e) {
            throw tampered(name, "not a readable jar (" + e.getMessage() + ")");
        }
    }

    /**
     * Every signature file must carry a whole-manifest digest ({@code SHA-256-Digest-Manifest}) that matches the
     * manifest's bytes: JAR verification alone accepts some manifest edits outside the sections it checks.
     */
    private static void manifestDigests(JarFile file, List<JarEntry> entries, String name)
            throws IOException, LicenseException {
        JarEntry mf = file.getJarEntry("META-INF/MANIFEST.MF");
        if (mf == null) {
            throw tampered(name, "META-INF/MANIFEST.MF is missing");
        }
        byte[] manifest;
        try (InputStream in = file.getInputStream(mf)) {
            manifest = in.readAllBytes();
        }
        for (JarEntry entry : entries) {
            String upper = entry.getName().toUpperCase(Locale.ROOT);
            if (!upper.endsWith(".SF") || !isSignatureFile(entry.getName())) {
                continue;
            }
            Manifest sf;
            try (InputStream in = file.getInputStream(entry)) {
                sf = new Manifest(in);
            }
            boolean checked = false;
            for (Map.Entry<Object, Object> attr : sf.getMainAttributes().entrySet()) {
                String key = attr.getKey().toString();
                if (!key.toUpperCase(Locale.ROOT).endsWith("-DIGEST-MANIFEST")) {
                    continue;
                }
                String algorithm = key.substring(0, key.length() - "-Digest-Manifest".length());
                byte[] expected;
                try {
                    expected = java.util.Base64.getDecoder().decode(attr.getValue().toString().trim());
                    byte[] actual = java.security.MessageDigest.getInstance(algorithm).digest(manifest);
                    if (!java.security.MessageDigest.isEqual(expected, actual)) {
                        throw tampered(name, "entry META-INF/MANIFEST.MF was changed after signing ("
                                + entry.getName() + " holds another " + key + ")");
                    }
                    checked = true;
                } catch (IllegalArgumentException | java.security.NoSuchAlgorithmException e) {
                    // an algorithm the JDK lacks or a bad value: not counted as checked
                }
            }
            if (!checked) {
                throw tampered(name, "entry " + entry.getName() + " has no whole-manifest digest this JDK checks");
            }
        }
    }

    /**
     * Exactly one signature file and one Ed25519 block ({@code META-INF/X.SF}, {@code META-INF/X.EC}), the block
     * strictly in the shape {@link SignatureBlocks} checks for the signer's certificate.
     */
    private static void signatureBlock(JarFile file, List<JarEntry> entries, String name, X509Certificate cert)
            throws IOException, LicenseException {
        List<String> sfs = new ArrayList<>();
        List<JarEntry> blocks = new ArrayList<>();
        for (JarEntry entry : entries) {
            if (isSignatureBlock(entry.getName())) {
                blocks.add(entry);
            } else if (isSignatureFile(entry.getName()) && entry.getName().toUpperCase(Locale.ROOT).endsWith(".SF")) {
                sfs.add(entry.getName());
            }
        }
        if (sfs.size() != 1 || blocks.size() != 1) {
            throw tampered(name, sfs.size() + " signature files and " + blocks.size()
                    + " signature blocks, a plugin has one of each");
        }
        String block = blocks.get(0).getName();
        String base = sfs.get(0).substring(0, sfs.get(0).length() - ".SF".length());
        if (!block.equals(base + ".EC")) {
            throw tampered(name, "entry " + block + " is not the Ed25519 block of " + sfs.get(0));
        }
        byte[] bytes;
        try (InputStream in = file.getInputStream(blocks.get(0))) {
            bytes = in.readAllBytes();
        }
        try {
            SignatureBlocks.check(bytes, cert);
        } catch (IllegalArgumentException e) {
            throw tampered(name, "entry " + block + " is not a well-formed signature block (" + e.getMessage() + ")");
        }
    }

    /** Signature-related files JAR signing leaves unsigned: the manifest and META-INF/*.SF, *.RSA, *.DSA, *.EC, SIG-*. */
    static boolean isSignatureFile(String entry) {
        String upper = entry.toUpperCase(Locale.ROOT);
        if (upper.equals("META-INF/MANIFEST.MF")) {
            return true;
        }
        if (!upper.startsWith("META-INF/") || upper.indexOf('/', "META-INF/".length()) >= 0) {
            return false;
        }
        return upper.endsWith(".SF") || isSignatureBlock(entry);
    }

    private static boolean isSignatureBlock(String entry) {
        String upper = entry.toUpperCase(Locale.ROOT);
        if (!upper.startsWith("META-INF/") || upper.indexOf('/', "META-INF/".length()) >= 0) {
            return false;
        }
        return upper.endsWith(".RSA") || upper.endsWith(".DSA") || upper.endsWith(".EC")
                || upper.startsWith("META-INF/SIG-");
    }

    private static LicenseException tampered(String jar, String why) {
        return new LicenseException(Refusal.TAMPERED, Refusal.TAMPERED.words() + ": plugin " + jar + ": " + why);
    }
}
