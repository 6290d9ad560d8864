package io.tollgate.tools;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The product version: the Maven project version, filtered into this jar at build time. Every bundle's
 * {@code Tollgate-Version} header (which {@code GET /v2} reports) and {@code tollgate-billing version} carry the same
 * string (docs/decisions.md, 2026-11-30).
 */
public final class ProductVersion implements IVersionProvider {
    private static final String RESOURCE = "version.properties";

    /** The version, e.g. {@code 0.1.0-SNAPSHOT}. */
    public static String current() {
        try (InputStream in = ProductVersion.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the tools jar; rebuild it with Maven");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Spec
    private CommandSpec spec;

    /** "NAME VERSION", NAME being the tool ({@code tollgate}, {@code tollgate-billing}). */
    @Override
    public String[] getVersion() {
        return new String[] {spec.root().name() + " " + current()};
    }
}
