package io.tollgate.licensing;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import io.tollgate.licensing.wrap.ModelKeyWrap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** docs/licensing.md's encrypted-model test vector ("Encrypted models"), proven against the code. */
public class ModelEncryptionDocTest {
    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private static byte[] modelKey() {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) i;
        }
        return key;
    }

    private KeyPair wrapKeys() throws Exception {
        Path dir = tmp.getRoot().toPath();
        Files.writeString(dir.resolve("wrap-private.pem"), LicenseDocTest.block("**wrap-private.pem**"));
        Files.writeString(dir.resolve("wrap-public.pem"), LicenseDocTest.block("**wrap-public.pem**"));
        return new KeyPair(ModelKeyWrap.readPublicKey(dir.resolve("wrap-public.pem")),
                ModelKeyWrap.readPrivateKey(dir.resolve("wrap-private.pem")));
    }

    @Test
    public void theWrappedKeyIsWhatTheCodeMakesAndOpens() throws Exception {
        KeyPair wrap = wrapKeys();
        assertEquals("291c5293e030452a599851a7c7298f3f16c3ff1bdfafcb598927f2631f9fa641",
                Pem.fingerprint(wrap.getPublic()));
        // RFC 7748 6.1: Alice's private key, whose public key is 8520f009...
        assertEquals("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", HexFormat.of().formatHex(
                Arrays.copyOfRange(wrap.getPublic().getEncoded(), 12, 44)));
        String wrapped = LicenseDocTest.line("**wrapped**");
        byte[] ikm = new byte[32];
        Arrays.fill(ikm, (byte) 0x42);
        assertEquals(wrapped, Base64.getEncoder().encodeToString(ModelKeyWrap.wrap(wrap.getPublic(), "lic-1", "k1",
                modelKey(), ikm)));
        assertArrayEquals(modelKey(), ModelKeyWrap.unwrap(wrap, "lic-1", "k1", Base64.getDecoder().decode(wrapped)));
        assertArrayEquals(new byte[] {'l', 'i', 'c', '-', '1', 0, 'k', '1'}, ModelKeyWrap.aad("lic-1", "k1"));
    }

    @Test
    public void theModelFileIsWhatTheCodeMakesAndOpens() throws Exception {
        byte[] file = HexFormat.of().parseHex(LicenseDocTest.line("**model file**"));
        byte[] clear = "tollgate test model\n".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(clear, ModelCipher.decrypt(file, modelKey(), "k1"));
        byte[] nonce = HexFormat.of().parseHex("000102030405060708090a0b");
        SecureRandom fixed = new SecureRandom() {
            private static final long serialVersionUID = 1L;

            @Override
            public void nextBytes(byte[] bytes) {
                System.arraycopy(nonce, 0, bytes, 0, bytes.length);
            }
        };
        assertArrayEquals(file, ModelCipher.encrypt(clear, modelKey(), "k1", fixed));
    }
}
