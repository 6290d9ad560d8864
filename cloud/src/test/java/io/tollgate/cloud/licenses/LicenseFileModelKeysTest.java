package io.tollgate.cloud.licenses;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.tollgate.licensing.ModelCipher;
import io.tollgate.licensing.vendor.LicenseIssuer;
import io.tollgate.licensing.wrap.ModelKeyWrap;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import org.junit.Test;

/** A license carrying an encrypted model's wrapped key (docs/licensing.md, "Encrypted models") imports into billing. */
public class LicenseFileModelKeysTest {
    @Test
    public void aLicenseWithModelKeysParsesVerifiedAndUnverified() throws Exception {
        KeyPair vendor = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        KeyPair device = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        byte[] lic = new LicenseIssuer("Acme", vendor.getPrivate(), vendor.getPublic()).id("lic-enc").tenant("t")
                .plugin("secret").device("box-1", device.getPublic())
                .modelKey("k1", ModelCipher.newKey(new SecureRandom()), ModelKeyWrap.generate().getPublic()).issue();
        LicenseFile.Parsed unverified = LicenseFile.license(lic, null);
        assertFalse(unverified.verified());
        assertEquals("lic-enc", unverified.license().id());
        LicenseFile.Parsed verified = LicenseFile.license(lic, vendor.getPublic());
        assertTrue(verified.verified());
        assertEquals("k1", verified.license().modelKeys().get(0).keyId());
    }
}
