package io.tollgate.serving.internal;

import io.tollgate.licensing.Entitlements;
import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.ModelCipher;
import io.tollgate.licensing.Refusal;
import io.tollgate.model.ModelDescriptor;
import java.util.Arrays;
import java.util.function.Supplier;
import org.osgi.framework.Version;

/**
 * Opens an encrypted model file in memory (issue 10, "Model encryption"; docs/licensing.md, "Encrypted models"): asks
 * the licensing service for the model key (the license that entitles this plugin version carries it, wrapped for this
 * device), decrypts, and zeroes the key. The clear bytes go to the engine as a {@code ModelArtifact}; nothing is
 * written to disk (ONNX Runtime builds the session from the bytes). Runs on a loader thread.
 */
final class ModelDecryption {
    private ModelDecryption() {
    }

    /**
     * The clear model bytes of an encrypted model file.
     *
     * @throws PluginException with the reason for {@code /admin/plugins}: unknown scheme, no licensing service, not
     *                         entitled, no model key in the license, key wrapped for another device, file tampered
     */
    /** Whether {@code file} starts with the encrypted model header ({@code TGEM}, docs/licensing.md). */
    static boolean hasEncryptedHeader(byte[] file) {
        return file.length >= 4 && file[0] == 'T' && file[1] == 'G' && file[2] == 'E' && file[3] == 'M';
    }

    static byte[] open(PluginSource source, ModelDescriptor descriptor, DescriptorReader.Encryption encryption,
                       byte[] file, Supplier<Entitlements> entitlements) throws PluginException {
        String prefix = source.label() + ": model file " + descriptor.file() + " is encrypted: ";
        if (!ModelCipher.SCHEME.equals(encryption.scheme())) {
            throw new PluginException(prefix + "unsupported encryption: scheme \"" + encryption.scheme() + "\" (field"
                    + " 'encryption' of " + source.descriptorPath() + "); this appliance reads \"" + ModelCipher.SCHEME
                    + "\"");
        }
        Entitlements e = entitlements.get();
        if (e == null) {
            throw new PluginException(prefix + "no licensing service (io.tollgate.licensing.Entitlements) is"
                    + " registered to give its key", null, true);
        }
        String version;
        try {
            version = Version.parseVersion(descriptor.version()).toString();
        } catch (IllegalArgumentException ex) {
            version = descriptor.version();
        }
        byte[] key = null;
        try {
            key = e.modelKey(descriptor.name(), version, encryption.keyId());
            return ModelCipher.decrypt(file, key, encryption.keyId());
        } catch (LicenseException ex) {
            // a key missing from the license, wrapped for another device, or no entitlement: another license cures it
            boolean license = ex.refusal() != Refusal.TAMPERED && ex.refusal() != Refusal.UNSUPPORTED_ENCRYPTION;
            throw new PluginException(prefix + ex.getMessage(), ex, license);
        } finally {
            if (key != null) {
                Arrays.fill(key, (byte) 0);
            }
        }
    }
}
