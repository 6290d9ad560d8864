package io.tollgate.licensing;

import java.util.Arrays;
import java.util.Objects;

/**
 * One model key a license carries (docs/licensing.md, "Encrypted models"): the 32-byte AES key of an encrypted model
 * file, wrapped with HPKE for one device's wrap key. It never holds the key in clear.
 *
 * @param keyId   the key id the encrypted file's header and the plugin's descriptor name
 * @param wrapKey fingerprint of the device's X25519 wrap public key it is wrapped for (lower-case hex SHA-256 of its
 *                SubjectPublicKeyInfo DER, as {@link Pem#fingerprint})
 * @param wrapped HPKE encapsulated key (32 bytes) then the sealed key (48 bytes)
 * @since 1.1
 */
public record ModelKey(String keyId, String wrapKey, byte[] wrapped) {
    public ModelKey {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(wrapKey, "wrapKey");
        wrapped = Objects.requireNonNull(wrapped, "wrapped").clone();
    }

    @Override
    public byte[] wrapped() {
        return wrapped.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelKey k && k.keyId.equals(keyId) && k.wrapKey.equals(wrapKey)
                && Arrays.equals(k.wrapped, wrapped);
    }

    @Override
    public int hashCode() {
        return Objects.hash(keyId, wrapKey, Arrays.hashCode(wrapped));
    }

    @Override
    public String toString() {
        return "ModelKey[" + keyId + " for wrap key " + wrapKey + "]";
    }
}
