package io.tollgate.cloud.mqtt;

/**
 * The billing service's broker identity (docs/operations.md, "The broker"): username {@code tollgate-billing} and the
 * password from {@code --mqtt-password-file}.
 */
public record BrokerLogin(String username, String password) {
    @Override
    public String toString() {
        return "BrokerLogin[" + username + "]";   // never the password
    }
}
