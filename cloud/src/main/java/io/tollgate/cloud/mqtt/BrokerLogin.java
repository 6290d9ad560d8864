package io.tollgate.cloud.mqtt;

/**
 * The billing service's broker identity (docs/operations.md, "The broker"): username {@code tollgate-billing} and the
 * password from {@code --mqtt-password-file}.
 */
public record BrokerLogin(String username, String password) {
    /**
     * The shared-subscription group of the instances with this identity: {@code tollgate-billing-} + 32 hex of
     * SHA-256 of the password. mosquitto's acl_file cannot refuse a subscription (2.0 checks only delivery), and a
     * device that joined the billing's group would make the broker drop every batch the round-robin hands it; a
     * group named after the secret cannot be joined without it (docs/decisions.md, 2026-11-30 "Broker identities").
     * Without a password: the documented {@code tollgate-billing}.
     */
    public String shareGroup() {
        if (password == null || password.isEmpty()) {
            return "tollgate-billing";
        }
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(
                    ("tollgate-billing share group|" + password).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "tollgate-billing-" + java.util.HexFormat.of().formatHex(d, 0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    @Override
    public String toString() {
        return "BrokerLogin[" + username + "]";   // never the password
    }
}
