package io.tollgate.metering.internal;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** PEM armour (RFC 7468) for the device key files: base64 in 64-character lines between BEGIN/END lines. */
final class Pem {
    static final String PRIVATE_KEY = "PRIVATE KEY";
    static final String PUBLIC_KEY = "PUBLIC KEY";

    private Pem() {
    }

    static String encode(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    /**
     * Returns the DER inside the first block of {@code type}.
     *
     * @throws IllegalArgumentException when there is no such block or its base64 is broken
     */
    static byte[] decode(String text, String type, String source) {
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int b = text.indexOf(begin);
        int e = b < 0 ? -1 : text.indexOf(end, b);
        if (b < 0 || e < 0) {
            throw new IllegalArgumentException(source + " holds no '" + begin + "' block");
        }
        String body = text.substring(b + begin.length(), e).replaceAll("\\s", "");
        try {
            return Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException(source + ": the " + type + " block is not valid base64", ex);
        }
    }
}
