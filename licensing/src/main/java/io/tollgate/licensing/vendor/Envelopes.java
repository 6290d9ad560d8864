package io.tollgate.licensing.vendor;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Base64;
import java.util.LinkedHashMap;

/** Signs a payload and wraps it in the envelope of docs/licensing.md (one line, trailing newline). */
final class Envelopes {
    private Envelopes() {
    }

    static byte[] seal(String format, String payloadJson, PrivateKey key) {
        byte[] payload = payloadJson.getBytes(StandardCharsets.UTF_8);
        byte[] signature;
        try {
            Signature signer = Signature.getInstance("Ed25519");
            signer.initSign(key);
            signer.update(payload);
            signature = signer.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot sign with this key (an Ed25519 private key is needed): "
                    + e.getMessage(), e);
        }
        LinkedHashMap<String, Object> env = new LinkedHashMap<>();
        env.put("format", format);
        env.put("payload", Base64.getEncoder().encodeToString(payload));
        env.put("signature", Base64.getEncoder().encodeToString(signature));
        return (JsonText.object(env) + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
