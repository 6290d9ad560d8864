package io.tollgate.tools.profile;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.tools.ToolRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code bin/tollgate profile detect|show|list} (and the hidden jvm-options) on recorded device roots. */
public class ProfileCommandTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static ToolRun profile(String command, String root, String... more) {
        String[] args = new String[6 + more.length];
        args[0] = "profile";
        args[1] = command;
        args[2] = "--root";
        args[3] = FirmwareProfilesTest.ROOTS.resolve(root).toString();
        args[4] = "--profiles";
        args[5] = FirmwareProfilesTest.SHIPPED.toString();
        System.arraycopy(more, 0, args, 6, more.length);
        return ToolRun.of(args);
    }

    @Test
    public void detectSaysWhatTheBoxIsHowEachProfileFaresAndWhichIsChosen() throws Exception {
        ToolRun r = profile("detect", "jetson-orin-nano-jp6", "--conf", tmp.getRoot().toString());
        assertEquals(r.toString(), 0, r.code());
        assertTrue(r.out(), r.out().contains("  device-tree model \"NVIDIA Jetson Orin Nano Developer Kit\" (/proc/device-tree/model"));
        assertTrue(r.out(), r.out().contains("  jetson-agx-orin-jp6: no: match.device.tree.model=AGX Orin (box: "
                + "\"NVIDIA Jetson Orin Nano Developer Kit\")\n"));
        assertTrue(r.out(), r.out().contains("  arm64-cpu: matches, 1 condition(s): match.arch=aarch64 (box: aarch64)\n"));
        assertTrue(r.out(), r.out().contains("  x86-cpu: no: match.arch=x86_64 (box: aarch64)"));
        assertTrue(r.out(), r.out().endsWith("chosen: jetson-orin-nano-jp6 (detected: the most specific match, "
                + "match.arch=aarch64 (box: aarch64), match.device.tree.model=Orin Nano (box: \"NVIDIA Jetson Orin Nano "
                + "Developer Kit\"), match.l4t.release=R36 (box: R36))\n"));
    }

    @Test
    public void detectWithAForcedProfileWarnsWhatTheBoxLacks() {
        ToolRun r = profile("detect", "x86-cpu", "--profile", "x86-nvidia", "--conf", tmp.getRoot().toString());
        assertEquals(r.toString(), 0, r.code());
        assertTrue(r.out(), r.out().contains("chosen: x86-nvidia (by --profile)\nwarning: this box does not match "
                + "x86-nvidia: match.nvidia.gpu=true (box: none); what it lacks falls back (a GPU: models run on the CPU)\n"));
    }

    @Test
    public void showGivesEachKeyItsSourceAndTheOwnersConfWinsKeyByKey() throws Exception {
        Path conf = tmp.newFolder("conf").toPath();
        Files.writeString(conf.resolve("io.tollgate.serving.cfg"), "worker.threads=3\ndrain.timeout.ms=1000\n");
        ToolRun r = profile("show", "x86-cpu", "--conf", conf.toString());
        assertEquals(r.toString(), 0, r.code());
        assertTrue(r.out(), r.out().startsWith("chosen: x86-cpu (detected: the most specific match, "));
        assertTrue(r.out(), r.out().contains("jvm.options: -XX:MaxRAMPercentage=25  (profile x86-cpu; "
                + "TOLLGATE_JAVA_OPTS come after them and win)\n"));
        assertTrue(r.out(), r.out().contains("io.tollgate.serving:\n"
                + "  drain.timeout.ms=1000  (" + conf.resolve("io.tollgate.serving.cfg") + ")\n"
                + "  max.queue.per.model=256  (profile x86-cpu)\n"
                + "  worker.threads=3  (" + conf.resolve("io.tollgate.serving.cfg") + ", over profile x86-cpu's 0)\n"));
        assertTrue(r.out(), r.out().contains("io.tollgate.accelerators:\n  engine.order=onnx  (profile x86-cpu)\n"));
    }

    @Test
    public void theProfileNamedInTheConfFolderIsUsed() throws Exception {
        Path conf = tmp.newFolder("conf").toPath();
        Files.writeString(conf.resolve("io.tollgate.profile.cfg"), "name=arm64-cpu\n");
        ToolRun r = profile("jvm-options", "x86-cpu", "--conf", conf.toString());
        assertEquals(r.toString(), 0, r.code());
        assertEquals("-XX:MaxRAMPercentage=25\n", r.out());
        r = profile("show", "x86-cpu", "--conf", conf.toString());
        assertTrue(r.out(), r.out().startsWith("chosen: arm64-cpu (by " + conf.resolve("io.tollgate.profile.cfg") + ")\n"
                + "warning: this box does not match arm64-cpu: match.arch=aarch64 (box: x86_64)"));
    }

    @Test
    public void jvmOptionsArePrintedOnePerLineAndNoProfileExits14WithTheReason() {
        ToolRun r = profile("jvm-options", "jetson-agx-orin-jp6", "--conf", tmp.getRoot().toString());
        assertEquals(r.toString(), 0, r.code());
        assertEquals("-Xms512m\n-Xmx4g\n", r.out());
        r = profile("jvm-options", "riscv64", "--conf", tmp.getRoot().toString());
        assertEquals(r.toString(), 14, r.code());
        assertTrue(r.err(), r.err().contains("no firmware profile in " + FirmwareProfilesTest.SHIPPED + " matches this box"));
        r = profile("jvm-options", "x86-cpu", "--conf", tmp.getRoot().toString(), "--profile", "nope");
        assertEquals(r.toString(), 14, r.code());
        assertTrue(r.err(), r.err().contains("firmware profile 'nope' (--profile) is not in "));
    }

    /** bin/tollgate reads the options from --out's file, never from stdout, where the JVM may log (-Xlog:gc). */
    @Test
    public void jvmOptionsGoToTheOutFileWhenOneIsNamed() throws Exception {
        java.nio.file.Path file = tmp.getRoot().toPath().resolve("options");
        Files.writeString(file, "-Xmx1g\nleft from before\n");
        ToolRun r = profile("jvm-options", "jetson-agx-orin-jp6", "--conf", tmp.getRoot().toString(), "--out",
                file.toString());
        assertEquals(r.toString(), 0, r.code());
        assertEquals("nothing on stdout", "", r.out());
        assertEquals("replaced", "-Xms512m\n-Xmx4g\n", Files.readString(file));
        r = profile("jvm-options", "x86-cpu", "--conf", tmp.getRoot().toString(), "--out",
                tmp.getRoot().toPath().resolve("no-such-folder/options").toString());
        assertEquals(r.toString(), 3, r.code());
        assertTrue(r.err(), r.err().contains("cannot write the JVM options to "));
    }

    @Test
    public void listShowsEveryProfileAndWhichMatch() {
        ToolRun r = profile("list", "x86-nvidia", "--conf", tmp.getRoot().toString());
        assertEquals(r.toString(), 0, r.code());
        assertTrue(r.out(), r.out().contains("x86-nvidia  [matches this box]  x86-64 box with an NVIDIA GPU"));
        assertTrue(r.out(), r.out().contains("\nx86-cpu  x86-64 box without an NVIDIA GPU"));
        assertEquals(r.out(), 10, r.out().lines().count());
    }
}
