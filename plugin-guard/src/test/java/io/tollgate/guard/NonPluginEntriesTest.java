package io.tollgate.guard;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.wiring.BundleRevision;

/**
 * The framework asks the hook about every unresolved bundle, the system bundles included (ONNX Runtime's 54 MB jar,
 * BouncyCastle's): one that is no plugin is told apart by its headers and capabilities alone, without listing its
 * entries, which took a tenth of a start's CPU (issue 11, start to ready).
 */
public class NonPluginEntriesTest {
    private final AtomicInteger entryListings = new AtomicInteger();

    private Bundle bundle(String location, Hashtable<String, String> headers) {
        return (Bundle) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Bundle.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getHeaders" -> headers;
                    case "getLocation" -> location;
                    case "getBundleId" -> 7L;
                    case "getVersion" -> org.osgi.framework.Version.emptyVersion;
                    case "getState" -> Bundle.INSTALLED;
                    case "getEntry", "findEntries", "getResource" -> null;
                    case "getSymbolicName" -> headers.get("Bundle-SymbolicName");
                    case "getEntryPaths" -> {
                        entryListings.incrementAndGet();
                        yield Collections.emptyEnumeration();
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static BundleRevision revision(Bundle bundle) {
        return (BundleRevision) Proxy.newProxyInstance(NonPluginEntriesTest.class.getClassLoader(),
                new Class<?>[] {BundleRevision.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getBundle" -> bundle;
                    case "getWiring" -> null;
                    case "getDeclaredCapabilities" -> List.of();
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    public void aSystemBundleThatIsNoPluginIsJudgedWithoutListingItsEntries() {
        Hashtable<String, String> headers = new Hashtable<>();
        headers.put("Bundle-SymbolicName", "com.microsoft.onnxruntime");
        headers.put("Bundle-Version", "1.29.0");
        headers.put("Export-Package", "ai.onnxruntime;version=\"1.29.0\"");
        Bundle b = bundle("reference:file:/opt/tollgate/system/tollgate-onnxruntime.jar", headers);

        PluginVerdict v = new PluginResolverHook(Path.of("/opt/tollgate/plugins")).verdict(revision(b));

        assertTrue(v.reason(), v.passes());
        assertEquals("entry listings of a bundle that is no plugin", 0, entryListings.get());
    }

    @Test
    public void aBundleFromThePluginsFolderIsStillListed() {
        Hashtable<String, String> headers = new Hashtable<>();
        headers.put("Bundle-SymbolicName", "not.a.model");
        Bundle b = bundle("file:/opt/tollgate/plugins/x.jar", headers);

        new PluginResolverHook(Path.of("/opt/tollgate/plugins")).verdict(revision(b));

        assertTrue("the entries of a jar from the plugins folder are read", entryListings.get() > 0);
    }
}
