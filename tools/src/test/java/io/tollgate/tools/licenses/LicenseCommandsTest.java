package io.tollgate.tools.licenses;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.tollgate.licensing.Pem;
import io.tollgate.licensing.vendor.LicenseIssuer;
import io.tollgate.licensing.vendor.VendorKeys;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code vendor trust|list|remove} and {@code license install|list|remove} on real key and license files. */
public class LicenseCommandsTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Path conf;
    private Path licenses;
    private Path data;
    private Path keyDir;
    private KeyPair key;

    @Before
    public void files() throws Exception {
        Path root = tmp.getRoot().toPath();
        conf = Files.createDirectories(root.resolve("conf"));
        licenses = root.resolve("licenses");
        data = root.resolve("data");
        keyDir = root.resolve("acme-key");
        key = VendorKeys.generate(keyDir);
    }

    private ToolRun run(String... args) {
        return ToolRun.of(args);
    }

    private byte[] license(String id) {
        return new LicenseIssuer("acme", key.getPrivate(), key.getPublic()).id(id).tenant("t1").unbound()
                .plugin("ocr").versions("[1.0.0,2.0.0)").notBefore(Instant.now().minus(1, ChronoUnit.HOURS)).issue();
    }

    @Test
    public void vendorTrustListAndRemove() throws Exception {
        String fp = Pem.fingerprint(key.getPublic());
        ToolRun none = run("vendor", "list", "--conf", conf.toString());
        assertTrue(none.toString(), none.out().contains("no trusted vendors"));
        ToolRun trust = run("vendor", "trust", keyDir.resolve(VendorKeys.PUBLIC_FILE).toString(), "--name", "acme",
                "--conf", conf.toString());
        assertEquals(trust.toString(), ExitCodes.OK, trust.code());
        assertTrue(Files.exists(conf.resolve("vendors/acme.pem")));
        ToolRun again = run("vendor", "trust", keyDir.resolve(VendorKeys.PUBLIC_FILE).toString(), "--name", "other",
                "--conf", conf.toString());
        assertTrue(again.toString(), again.out().contains("already trusted as acme"));
        ToolRun list = run("vendor", "list", "--conf", conf.toString());
        assertTrue(list.toString(), list.out().contains("acme") && list.out().contains(fp));
        ToolRun bad = run("vendor", "trust", tmp.newFile("x.pem").toString(), "--conf", conf.toString());
        assertEquals(bad.toString(), ExitCodes.IO_ERROR, bad.code());
        ToolRun badName = run("vendor", "trust", keyDir.resolve(VendorKeys.PUBLIC_FILE).toString(), "--name", "a b",
                "--conf", tmp.newFolder().toString());
        assertEquals(badName.toString(), ExitCodes.USAGE, badName.code());
        ToolRun remove = run("vendor", "remove", fp, "--conf", conf.toString());
        assertEquals(remove.toString(), ExitCodes.OK, remove.code());
        assertFalse(Files.exists(conf.resolve("vendors/acme.pem")));
        assertEquals(ExitCodes.FAILED, run("vendor", "remove", "acme", "--conf", conf.toString()).code());
    }

    @Test
    public void licenseInstallListAndRemove() throws Exception {
        Path file = Files.write(tmp.getRoot().toPath().resolve("ocr.lic"), license("lic-1"));
        ToolRun unknown = run("license", "install", file.toString(), "--conf", conf.toString(), "--licenses",
                licenses.toString(), "--data", data.toString());
        assertEquals(unknown.toString(), ExitCodes.FAILED, unknown.code());
        assertTrue(unknown.toString(), unknown.err().contains("unknown vendor") && unknown.err().contains("nothing"));
        assertFalse("nothing written", Files.exists(licenses) && Files.list(licenses).findAny().isPresent());

        run("vendor", "trust", keyDir.resolve(VendorKeys.PUBLIC_FILE).toString(), "--name", "acme", "--conf",
                conf.toString());
        ToolRun install = run("license", "install", file.toString(), "--conf", conf.toString(), "--licenses",
                licenses.toString(), "--data", data.toString());
        assertEquals(install.toString(), ExitCodes.OK, install.code());
        assertTrue(install.toString(), install.out().contains("installed license lic-1") && install.out().contains("valid"));
        assertTrue(Files.exists(licenses.resolve("lic-1.lic")));
        Files.writeString(licenses.resolve("junk.lic"), "junk");
        ToolRun list = run("license", "list", "--conf", conf.toString(), "--licenses", licenses.toString(), "--data",
                data.toString());
        assertTrue(list.toString(), list.out().contains("lic-1") && list.out().contains("ocr")
                && list.out().contains("valid") && list.out().contains("refused: ") && list.out().contains("junk.lic"));
        ToolRun remove = run("license", "remove", "lic-1", "--conf", conf.toString(), "--licenses", licenses.toString());
        assertEquals(remove.toString(), ExitCodes.OK, remove.code());
        assertFalse(Files.exists(licenses.resolve("lic-1.lic")));
        assertEquals(ExitCodes.FAILED, run("license", "remove", "lic-1", "--conf", conf.toString(), "--licenses",
                licenses.toString()).code());
    }
}
