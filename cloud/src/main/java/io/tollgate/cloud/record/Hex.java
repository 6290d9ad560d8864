package io.tollgate.cloud.record;

import java.util.HexFormat;

/** Lowercase hex, as the record documents and exports print hashes and signatures. */
public final class Hex {
    private static final HexFormat FORMAT = HexFormat.of();

    private Hex() {
    }

    public static String of(byte[] bytes) {
        return FORMAT.formatHex(bytes);
    }

    public static byte[] parse(String hex) {
        return FORMAT.parseHex(hex.replaceAll("\\s", ""));
    }
}
