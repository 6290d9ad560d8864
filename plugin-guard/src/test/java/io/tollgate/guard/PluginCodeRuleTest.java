package io.tollgate.guard;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The rule, header by header and entry by entry; the example plugin and {@code plugin pack}'s layout pass. */
public class PluginCodeRuleTest {
    private static final String DATA_ONLY = "; model plugins are data only (docs/plugins.md)";

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static PluginVerdict withHeader(String name, String value) {
        Map<String, String> h = TestJars.pluginHeaders("m");
        h.put(name, value);
        return PluginCodeRule.check(h, TestJars.pluginEntries(), true);
    }

    private static PluginVerdict withEntry(String path) {
        List<String> entries = TestJars.pluginEntries();
        entries.add(path);
        return PluginCodeRule.check(TestJars.pluginHeaders("m"), entries, true);
    }

    @Test
    public void whatPluginPackWritesPasses() {
        PluginVerdict v = PluginCodeRule.check(TestJars.pluginHeaders("m"), TestJars.pluginEntries(), true);
        assertTrue(v.toString(), v.passes());
        assertEquals("", v.reason());
    }

    @Test
    public void theFashionMnistPluginPasses() throws Exception {
        // The example plugin as its module built it (a jar, or target/classes when the reactor stops before package).
        Enumeration<URL> manifests = getClass().getClassLoader().getResources("META-INF/MANIFEST.MF");
        while (manifests.hasMoreElements()) {
            URL url = manifests.nextElement();
            Manifest m;
            try (var in = url.openStream()) {
                m = new Manifest(in);
            }
            if (!"tollgate.plugin.fashion-mnist".equals(m.getMainAttributes().getValue("Bundle-SymbolicName"))) {
                continue;
            }
            PluginVerdict v;
            if (url.getProtocol().equals("jar")) {
                try (JarFile jar = ((JarURLConnection) url.openConnection()).getJarFile()) {
                    v = PluginCodeRule.check(jar);
                }
            } else {
                Path root = Paths.get(url.toURI()).getParent().getParent();
                Map<String, String> headers = new LinkedHashMap<>();
                m.getMainAttributes().forEach((k, val) -> headers.put(k.toString(), val.toString()));
                try (Stream<Path> files = Files.walk(root)) {
                    v = PluginCodeRule.check(headers, files.map(f -> root.relativize(f).toString().replace('\\', '/'))
                            .collect(Collectors.toList()), true);
                }
            }
            assertTrue(url + ": " + v.reason(), v.passes());
            return;
        }
        throw new AssertionError("the fashion-mnist plugin is not on the test class path");
    }

    @Test
    public void anActivatorIsCodeAndTheReasonSaysSo() {
        Map<String, String> h = TestJars.pluginHeaders("m");
        h.put("Bundle-Activator", "com.evil.Activator");
        PluginVerdict v = PluginCodeRule.check(h, TestJars.pluginEntries(), true);
        assertFalse(v.passes());
        assertEquals("plugin carries code: Bundle-Activator com.evil.Activator" + DATA_ONLY, v.reason());
    }

    @Test
    public void everyHeaderThatLoadsOrWiresCodeIsRefused() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Bundle-Activator", "com.evil.Activator");
        headers.put("ExtensionBundle-Activator", "com.evil.Extension");
        headers.put("Service-Component", "OSGI-INF/*.xml");
        headers.put("Bundle-Blueprint", "OSGI-INF/blueprint/*.xml");
        headers.put("Bundle-NativeCode", "lib/libevil.so;osname=Linux;processor=x86-64");
        headers.put("Bundle-ClassPath", ".,lib/evil.jar");
        headers.put("Import-Package", "org.osgi.framework;version=\"[1.10,2)\"");
        headers.put("DynamicImport-Package", "*");
        headers.put("Require-Bundle", "io.tollgate.metering");
        headers.put("Fragment-Host", "io.tollgate.metering");
        headers.put("Export-Package", "io.tollgate.metering");
        headers.put("Bundle-ActivationPolicy", "lazy");
        headers.put("Main-Class", "com.evil.Main");
        headers.put("Premain-Class", "com.evil.Agent");
        for (Map.Entry<String, String> e : headers.entrySet()) {
            PluginVerdict v = withHeader(e.getKey(), e.getValue());
            assertEquals(e.getKey(), List.of(e.getKey() + " " + e.getValue()), v.code());
            assertTrue(v.reason(), v.reason().startsWith("plugin carries code: " + e.getKey() + " "));
        }
    }

    @Test
    public void headerNamesAreCaseInsensitive() {
        assertEquals(List.of("Bundle-Activator com.evil.Activator"), withHeader("bundle-activator", "com.evil.Activator").code());
        assertTrue(withHeader("tollgate-license", "x").passes());
    }

    @Test
    public void everyKindOfCodeEntryIsRefused() {
        Map<String, String> entries = new LinkedHashMap<>();
        entries.put("com/evil/Activator.class", "class com/evil/Activator.class");
        entries.put("META-INF/versions/11/com/evil/A.class", "class META-INF/versions/11/com/evil/A.class");
        entries.put("module-info.CLASS", "class module-info.CLASS");
        entries.put("lib/libevil.so", "native library lib/libevil.so");
        entries.put("lib/libevil.so.1.2", "native library lib/libevil.so.1.2");
        entries.put("lib/evil.dll", "native library lib/evil.dll");
        entries.put("lib/libevil.dylib", "native library lib/libevil.dylib");
        entries.put("lib/libevil.jnilib", "native library lib/libevil.jnilib");
        entries.put("lib/evil.jar", "nested jar lib/evil.jar");
        entries.put("OSGI-INF/evil.xml", "OSGi descriptor OSGI-INF/evil.xml");
        entries.put("OSGI-INF/blueprint/evil.xml", "OSGi descriptor OSGI-INF/blueprint/evil.xml");
        entries.put("META-INF/services/java.sql.Driver", "service provider file META-INF/services/java.sql.Driver");
        entries.put("lib/EVIL.DLL", "native library lib/EVIL.DLL");
        entries.put("lib/libevil.SO", "native library lib/libevil.SO");
        entries.put("lib/libevil.Dylib", "native library lib/libevil.Dylib");
        entries.put("lib/libevil.JNILIB", "native library lib/libevil.JNILIB");
        entries.put("com/evil/A.Class", "class com/evil/A.Class");
        for (Map.Entry<String, String> e : entries.entrySet()) {
            PluginVerdict v = withEntry(e.getKey());
            assertEquals(e.getKey(), List.of(e.getValue()), v.code());
            assertEquals("plugin carries code: " + e.getValue() + DATA_ONLY, v.reason());
        }
    }

    @Test
    public void entryNamesThatLeaveThePluginAreRefused() {
        Map<String, String> entries = new LinkedHashMap<>();
        entries.put("../../data/device/device.key.pem", "entry name that climbs out of the plugin ../../data/device/device.key.pem");
        entries.put("TOLLGATE-INF/../../x.onnx", "entry name that climbs out of the plugin TOLLGATE-INF/../../x.onnx");
        entries.put("/etc/cron.d/evil", "absolute entry name /etc/cron.d/evil");
        entries.put("C:/Windows/evil.txt", "absolute entry name C:/Windows/evil.txt");
        entries.put("TOLLGATE-INF\\..\\..\\x", "entry name with a backslash TOLLGATE-INF\\..\\..\\x");
        entries.put("TOLLGATE-INF/a\u0000.txt", "entry name with a control character TOLLGATE-INF/a?.txt");
        for (Map.Entry<String, String> e : entries.entrySet()) {
            PluginVerdict v = withEntry(e.getKey());
            assertEquals(e.getKey(), List.of(e.getValue()), v.declarations());
            assertEquals("plugin declares what a model plugin may not: " + e.getValue() + DATA_ONLY, v.reason());
        }
        PluginVerdict leading = withEntry("/com/evil/Leading.class");
        assertEquals(List.of("class com/evil/Leading.class"), leading.code());
        assertEquals(List.of("absolute entry name /com/evil/Leading.class"), leading.declarations());
        assertTrue(withEntry("TOLLGATE-INF/..data/x..y/model.onnx").passes());
    }

    @Test
    public void aPluginIsNotNamedLikeTollgateOrTheFramework() {
        for (String name : List.of("io.tollgate.serving", "IO.Tollgate.Metering;fragment-attachment:=never", "io.tollgate")) {
            PluginVerdict v = withHeader("Bundle-SymbolicName", name);
            String shown = name.split(";")[0];
            assertEquals(name, List.of("Bundle-SymbolicName " + shown + " (io.tollgate.* names Tollgate's own bundles)"),
                    v.declarations());
        }
        assertEquals(List.of("Bundle-SymbolicName system.bundle (the name of a framework bundle)"),
                withHeader("Bundle-SymbolicName", "system.bundle").declarations());
        assertEquals(List.of("Bundle-SymbolicName org.apache.felix.scr (the name of a framework bundle)"),
                withHeader("Bundle-SymbolicName", "org.apache.felix.scr").declarations());
        assertEquals(List.of("Bundle-SymbolicName tollgate.plugin.m as a singleton (versions of a plugin sit side by side)"),
                withHeader("Bundle-SymbolicName", "tollgate.plugin.m;singleton:=true").declarations());
        assertTrue(withHeader("Bundle-SymbolicName", "io.tollgatex.plugin").passes());
        assertTrue(withHeader("Bundle-SymbolicName", "com.acme.io.tollgate").passes());
    }

    /** OSGi lets a clause name several paths that share its parameters: each path is judged (review of issue 9). */
    @Test
    public void everyPathOfAClauseIsJudged() {
        assertEquals(List.of("Provide-Capability osgi.identity"),
                withHeader("Provide-Capability", "tollgate.model;osgi.identity;tollgate.model=m").declarations());
        assertEquals(List.of("Provide-Capability some.other.namespace", "Provide-Capability osgi.service"),
                withHeader("Provide-Capability", "tollgate.model;some.other.namespace;tollgate.model=m,"
                        + "osgi.service;tollgate.model;objectClass:List<String>=\"x.Y\"").declarations());
        assertEquals(List.of("Require-Capability tollgate.model (osgi.ee=JavaSE)"),
                withHeader("Require-Capability", "osgi.ee;tollgate.model;filter:=\"(osgi.ee=JavaSE)\"").declarations());
        assertEquals(List.of("Require-Capability osgi.service (tollgate.engine=onnx)"),
                withHeader("Require-Capability", "tollgate.engine;osgi.service;filter:=\"(tollgate.engine=onnx)\"")
                        .declarations());
        assertEquals("the unfiltered second clause asks for any extender", List.of("Require-Capability osgi.extender"),
                withHeader("Require-Capability", "osgi.extender;osgi.extender;filter:=\"(osgi.extender=tollgate.model)\","
                        + "osgi.ee;osgi.extender").declarations());
        Map<String, String> h = TestJars.pluginHeaders("m");
        h.put("Provide-Capability", "x.other;tollgate.model;tollgate.model=m");
        assertTrue("a model named second is still a model", PluginCodeRule.declaresModel(h));
        assertEquals(List.of("Provide-Capability x.other"), PluginCodeRule.check(h, TestJars.pluginEntries(), false)
                .declarations());
        assertFalse("a path after a parameter cannot be read",
                withHeader("Provide-Capability", "tollgate.model;tollgate.model=m;osgi.service").passes());
    }

    /** Each header that names code is refused whatever the shape of its value, several paths per clause included. */
    @Test
    public void codeHeadersWithSeveralPathsAreRefused() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Import-Package", "org.osgi.framework;org.osgi.util.tracker;version=\"[1,2)\"");
        headers.put("DynamicImport-Package", "org.osgi.framework;com.evil.*");
        headers.put("Export-Package", "io.tollgate.metering;io.tollgate.serving;version=1.0");
        headers.put("Bundle-NativeCode", "lib/a.so;lib/b.so;osname=Linux,*");
        headers.put("Fragment-Host", "system.bundle;extension:=framework");
        headers.put("Require-Bundle", "io.tollgate.metering;visibility:=reexport,io.tollgate.serving");
        headers.put("Service-Component", "OSGI-INF/a.xml,OSGI-INF/b.xml");
        headers.put("Bundle-Activator", "com.evil.Activator");
        headers.put("Bundle-ClassPath", ".;lib/evil.jar,lib/more.jar");
        for (Map.Entry<String, String> e : headers.entrySet()) {
            PluginVerdict v = withHeader(e.getKey(), e.getValue());
            assertEquals(e.getKey(), List.of(e.getKey() + " " + e.getValue()), v.code());
        }
        assertEquals(List.of("Fragment-Host system.bundle;extension:=bootclasspath"),
                withHeader("fragment-host", "system.bundle;extension:=bootclasspath").code());
    }

    @Test
    public void aClauseKeepsEveryPath() {
        List<HeaderClause> clauses = HeaderClause.parse("a;b; c ;x=1;y:=\"2;3\",d");
        assertEquals(List.of("a", "b", "c"), clauses.get(0).paths());
        assertEquals(Map.of("x", "1", "y", "2;3"), clauses.get(0).parameters());
        assertEquals(List.of("d"), clauses.get(1).paths());
    }

    @Test
    public void dataEntriesPass() {
        for (String path : List.of("TOLLGATE-INF/engines/orin/model.plan", "TOLLGATE-INF/model.onnx_data",
                "TOLLGATE-INF/classes.txt", "TOLLGATE-INF/so/", "META-INF/maven/x/pom.xml", "META-INF/VENDOR.SF",
                "TOLLGATE-INF/data.class.txt")) {
            assertTrue(path, withEntry(path).passes());
        }
    }

    @Test
    public void requirementsBeyondTollgatesOwnAreRefused() {
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("osgi.service;filter:=\"(objectClass=io.tollgate.metering.UsageJournal)\"",
                "Require-Capability osgi.service (objectClass=io.tollgate.metering.UsageJournal)");
        refused.put("osgi.wiring.package;filter:=\"(osgi.wiring.package=org.osgi.framework)\"",
                "Require-Capability osgi.wiring.package (osgi.wiring.package=org.osgi.framework)");
        refused.put("osgi.extender;filter:=\"(osgi.extender=osgi.component)\"",
                "Require-Capability osgi.extender (osgi.extender=osgi.component)");
        refused.put("osgi.extender;filter:=\"(|(osgi.extender=tollgate.model)(osgi.extender=osgi.component))\"",
                "Require-Capability osgi.extender (|(osgi.extender=tollgate.model)(osgi.extender=osgi.component))");
        refused.put("osgi.extender;filter:=\"(!(osgi.extender=tollgate.model))\"",
                "Require-Capability osgi.extender (!(osgi.extender=tollgate.model))");
        refused.put("osgi.extender;filter:=\"(osgi.extender=*)\"", "Require-Capability osgi.extender (osgi.extender=*)");
        refused.put("osgi.extender", "Require-Capability osgi.extender");
        refused.put("osgi.extender;filter:=\"(!(&(osgi.extender=tollgate.model)(version>=1.0)))\"",
                "Require-Capability osgi.extender (!(&(osgi.extender=tollgate.model)(version>=1.0)))");
        refused.put("osgi.extender;filter:=\"(&(|(osgi.extender=tollgate.model)(osgi.extender=osgi.component)))\"",
                "Require-Capability osgi.extender (&(|(osgi.extender=tollgate.model)(osgi.extender=osgi.component)))");
        refused.put("osgi.extender;filter:=\"(osgi.extender=tollgate.model*)\"",
                "Require-Capability osgi.extender (osgi.extender=tollgate.model*)");
        for (Map.Entry<String, String> e : refused.entrySet()) {
            PluginVerdict v = withHeader("Require-Capability", e.getKey());
            assertEquals(e.getKey(), List.of(e.getValue()), v.declarations());
            assertEquals("plugin declares what a model plugin may not: " + e.getValue() + DATA_ONLY, v.reason());
        }
        for (String allowed : List.of(
                "osgi.extender;filter:=\"(&(osgi.extender=tollgate.model)(version>=1.0)(!(version>=2.0)))\"",
                "osgi.extender;filter:=\"(osgi.extender=tollgate.model)\",tollgate.engine;filter:=\"(tollgate.engine=tensorrt)\"",
                "osgi.extender;filter:=\"(&(version>=1.0)(|(a=b)(c=d))(osgi.extender=tollgate.model))\"",
                "osgi.ee;filter:=\"(&(osgi.ee=JavaSE)(version=17))\"",
                "tollgate.engine;filter:=\"(tollgate.engine=onnx)\";resolution:=optional")) {
            assertTrue(allowed, withHeader("Require-Capability", allowed).passes());
        }
    }

    @Test
    public void aPluginProvidesOnlyItsModel() {
        PluginVerdict v = withHeader("Provide-Capability", "tollgate.model;tollgate.model=m,tollgate.engine;tollgate.engine=onnx");
        assertEquals(List.of("Provide-Capability tollgate.engine"), v.declarations());
        assertFalse(withHeader("Provide-Capability", "tollgate.model;tollgate.model=\"m").passes());
    }

    @Test
    public void onlyListedHeadersAreAllowed() {
        assertEquals(List.of("header X-Extender"), withHeader("X-Extender", "run-me").declarations());
        for (String ok : List.of("Created-By", "Build-Jdk-Spec", "Bundle-Vendor", "Bundle-Description", "Bundle-License",
                "Implementation-Version", "Tollgate-Version", "Private-Package", "Bnd-LastModified")) {
            assertTrue(ok, withHeader(ok, "x").passes());
        }
    }

    @Test
    public void aBundleInThePluginsFolderMustBeAModelPlugin() {
        Map<String, String> h = TestJars.pluginHeaders("m");
        h.remove("Provide-Capability");
        h.put("Bundle-Activator", "com.evil.Activator");
        PluginVerdict v = PluginCodeRule.check(h, TestJars.pluginEntries(), true);
        assertFalse(v.modelPlugin());
        assertEquals("not a model plugin: it provides no tollgate.model capability, and only model plugins may be "
                + "installed from the plugins folder; plugin carries code: Bundle-Activator com.evil.Activator" + DATA_ONLY,
                v.reason());
        assertTrue("outside the plugins folder only plugins are judged",
                PluginCodeRule.check(h, List.of(), false).modelPlugin());
        assertFalse(PluginCodeRule.declaresModel(h));
        assertTrue(PluginCodeRule.declaresModel(TestJars.pluginHeaders("m")));
    }

    @Test
    public void aLongListIsCut() {
        List<String> entries = TestJars.pluginEntries();
        for (int i = 0; i < 20; i++) {
            entries.add("c/C" + (char) ('a' + i) + ".class");
        }
        PluginVerdict v = PluginCodeRule.check(TestJars.pluginHeaders("m"), entries, true);
        assertEquals(20, v.code().size());
        assertTrue(v.reason(), v.reason().endsWith("class c/Ch.class and 12 more" + DATA_ONLY));
    }

    @Test
    public void aJarIsCheckedAsIfDroppedIntoPlugins() throws IOException {
        Map<String, byte[]> entries = TestJars.dataEntries();
        entries.put(TestJars.ACTIVATOR_CLASS, TestJars.activatorClass());
        Path file = tmp.getRoot().toPath().resolve("evil.jar");
        Files.write(file, TestJars.jar(TestJars.pluginHeaders("m"), entries));
        try (JarFile jar = new JarFile(file.toFile())) {
            assertEquals(List.of("class " + TestJars.ACTIVATOR_CLASS), PluginCodeRule.check(jar).code());
        }
        Files.write(file, TestJars.jar(TestJars.pluginHeaders("m"), TestJars.dataEntries()));
        try (JarFile jar = new JarFile(file.toFile())) {
            assertTrue(PluginCodeRule.check(jar).passes());
        }
        List<String> none = new ArrayList<>();
        assertFalse("no manifest: no model", PluginCodeRule.check(Map.of(), none, true).passes());
    }
}
