package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.Tensor;
import io.tollgate.pipeline.Pipeline;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineRequest;
import io.tollgate.serving.InferenceException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * {@link PipelineModel}: what a capability plugin's pipeline gets when it opens, the order things close in, what is
 * cleaned up when a step fails, and how its answers and exceptions map to serving's (the engine is {@link FakeEngine};
 * the real ONNX Runtime and Felix path is test-it's PipelinePluginIT).
 */
public class PipelineModelTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /** What the test pipelines saw and did, in order. */
    static final List<String> EVENTS = new java.util.concurrent.CopyOnWriteArrayList<>();
    static volatile PipelineContext opened;
    static volatile FakeEngine engine;

    /** Echoes its input as output 'echo', adds 'extra'; quantity = element count; 'bad' inputs are the client's fault. */
    public static class Echo implements Pipeline {
        @Override
        public void open(PipelineContext context) throws PipelineException {
            opened = context;
            EVENTS.add("open " + context.stages().keySet());
        }

        @Override
        public long quantity(PipelineRequest request) throws PipelineException {
            Tensor t = request.input("text").orElseThrow();
            if (new String(t.strings().get(0), StandardCharsets.UTF_8).equals("bad")) {
                throw PipelineException.invalidInput("text 0 is bad");
            }
            return t.elementCount();
        }

        @Override
        public List<Tensor> run(PipelineRequest request) {
            String first = new String(request.input("text").orElseThrow().strings().get(0), StandardCharsets.UTF_8);
            if (first.equals("bug")) {
                throw new IllegalStateException("index 3 out of bounds");
            }
            if (first.equals("deep")) {
                return deep(0);
            }
            return List.of(request.input("text").orElseThrow().rename("echo"),
                    Tensor.ofInts("extra", new long[] {1}, new int[] {1}));
        }

        private static List<Tensor> deep(int depth) {
            return depth < 0 ? List.of() : deep(depth + 1);
        }

        @Override
        public void close() {
            long stagesClosed = engine.models.stream().filter(m -> m.closes.get() > 0).count();
            EVENTS.add("close with " + stagesClosed + " stages closed");
            throw new IllegalStateException("close failed too");
        }
    }

    public static class OpenFails extends Echo {
        @Override
        public void open(PipelineContext context) throws PipelineException {
            throw new PipelineException(PipelineException.Reason.FAILED, "vocab.txt has no [UNK]");
        }
    }

    public static class NotAPipeline {
    }

    public static class NoDefaultConstructor extends Echo {
        public NoDefaultConstructor(String x) {
        }
    }

    private FakePluginSource plugin(Class<?> type) {
        FakePluginSource p = new FakePluginSource(9, "tollgate.plugin.echo", "1.0.0") {
            @Override
            public Class<?> loadClass(String className) throws ClassNotFoundException {
                if (className.equals(type.getName())) {
                    return type;
                }
                throw new ClassNotFoundException(className + " not found by " + symbolicName());
            }
        };
        p.put("TOLLGATE-INF/models/a.onnx", FakeEngine.model(1));
        p.put("TOLLGATE-INF/models/b.onnx", FakeEngine.model(2));
        p.put("TOLLGATE-INF/vocab.txt", "hello\n");
        return p;
    }

    private ModelDescriptor descriptor(String className) {
        return new ModelDescriptor("echo", "1.0.0", "onnx", "fake", "models/a.onnx",
                List.of(new io.tollgate.model.TensorSpec("text", io.tollgate.model.DataType.BYTES, new long[] {-1})),
                List.of(new io.tollgate.model.TensorSpec("echo", io.tollgate.model.DataType.BYTES, new long[] {-1})),
                0, List.of(), "tokens", "", Map.of("k", "v"), "fp32", List.of(),
                new io.tollgate.model.PipelineSpec(className, stages()));
    }

    private static Map<String, String> stages() {
        Map<String, String> stages = new java.util.LinkedHashMap<>();
        stages.put("a", "models/a.onnx");
        stages.put("b", "models/b.onnx");
        return stages;
    }

    private PipelineModel load(Class<?> type) throws PluginException {
        EVENTS.clear();
        engine = new FakeEngine("fake");
        return PipelineModel.load(plugin(type), engine, descriptor(type.getName()),
                new PipelineModel.Target("", ""), 1 << 20, tmp.getRoot().toPath().resolve("plugins"));
    }

    private static PipelineRequest request(String text, List<String> outputs) {
        return new PipelineRequest("r1", "default", List.of(Tensor.ofBytes("text", new long[] {2},
                List.of(text.getBytes(StandardCharsets.UTF_8), "x".getBytes(StandardCharsets.UTF_8)))), outputs,
                Map.of());
    }

    @Test
    public void opensWithItsStagesFilesParametersAndAPrivateWorkFolderAndClosesBeforeItsStages() throws Exception {
        PipelineModel m = load(Echo.class);
        assertEquals(List.of("open [a, b]"), EVENTS);
        assertEquals(2, engine.loads.get());
        assertEquals("hello\n", new String(opened.resource("vocab.txt"), StandardCharsets.UTF_8));
        try {
            opened.resource("../../etc/passwd");
            fail("a path outside the plugin was read");
        } catch (java.io.IOException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("no '..'"));
        }
        assertEquals(Map.of("k", "v"), opened.parameters());
        Path work = tmp.getRoot().toPath().resolve("plugins").resolve("tollgate.plugin.echo");
        assertEquals(work, opened.workFolder());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(work)));
        assertEquals("stage b on fake-cpu", opened.stage("b").toString());

        m.close();   // the pipeline's close throws: logged, the stages close anyway
        assertEquals(List.of("open [a, b]", "close with 0 stages closed"), EVENTS);
        assertTrue(engine.models.stream().allMatch(s -> s.closes.get() == 1));
    }

    @Test
    public void quantityAndRunMapTheirExceptionsAndDropOutputsNotAskedFor() throws Exception {
        PipelineModel m = load(Echo.class);
        assertEquals(2, m.quantity(request("hello", List.of())));
        try {
            m.quantity(request("bad", List.of()));
            fail();
        } catch (InferenceException e) {
            assertEquals(InferenceException.Reason.BAD_REQUEST, e.reason());
            assertEquals("text 0 is bad", e.getMessage());
        }
        assertEquals(2, m.serve(request("hello", List.of())).size());
        List<Tensor> one = m.serve(request("hello", List.of("echo")));
        assertEquals(1, one.size());
        assertEquals("echo", one.get(0).name());
        try {
            m.serve(request("bug", List.of()));
            fail();
        } catch (InferenceException e) {
            assertEquals(InferenceException.Reason.ENGINE_FAILURE, e.reason());
            assertEquals("pipeline echo failed: java.lang.IllegalStateException: index 3 out of bounds", e.getMessage());
        }
        try {
            m.serve(request("deep", List.of()));
            fail();
        } catch (InferenceException e) {
            assertEquals("a runaway recursion is answered too", InferenceException.Reason.ENGINE_FAILURE, e.reason());
            assertTrue(e.getMessage(), e.getMessage().startsWith("pipeline echo failed: java.lang.StackOverflowError"));
        }
        m.close();
    }

    @Test
    public void aClassThatCannotServeLeavesNothingLoaded() throws Exception {
        assertRefused(NotAPipeline.class, "pipeline class " + NotAPipeline.class.getName() + " does not implement"
                + " io.tollgate.pipeline.Pipeline");
        assertRefused(NoDefaultConstructor.class, "has no public no-argument constructor");
        assertRefused(OpenFails.class, "plugin tollgate.plugin.echo 1.0.0: pipeline " + OpenFails.class.getName()
                + " could not open: vocab.txt has no [UNK]");
        assertEquals("a pipeline whose open failed is closed (it may have taken something), before its stages",
                List.of("close with 0 stages closed"), EVENTS);
    }

    @Test
    public void aMissingClassOrStageIsNamed() throws Exception {
        EVENTS.clear();
        engine = new FakeEngine("fake");
        try {
            PipelineModel.load(plugin(Echo.class), engine, descriptor("io.acme.Missing"), new PipelineModel.Target("",
                    ""), 1 << 20, tmp.getRoot().toPath());
            fail();
        } catch (PluginException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("pipeline class io.acme.Missing (field 'pipeline.class'"
                    + " of TOLLGATE-INF/model.json) cannot be loaded from the plugin"));
        }
        assertTrue(engine.models.stream().allMatch(s -> s.closes.get() == 1));
        FakePluginSource p = plugin(Echo.class);
        p.put("TOLLGATE-INF/models/b.onnx", "corrupt");
        try {
            PipelineModel.load(p, engine, descriptor(Echo.class.getName()), new PipelineModel.Target("", ""), 1 << 20,
                    tmp.getRoot().toPath());
            fail();
        } catch (PluginException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("stage b (TOLLGATE-INF/models/b.onnx): engine 'fake'"
                    + " cannot load the model (CORRUPT_MODEL)"));
        }
        assertTrue("stage a, loaded before b failed, is closed",
                engine.models.stream().allMatch(s -> s.closes.get() == 1));
    }

    private void assertRefused(Class<?> type, String message) {
        try {
            load(type);
            fail("loaded " + type);
        } catch (PluginException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(message));
        }
        assertEquals(2, engine.models.size());
        assertTrue("every stage loaded is closed", engine.models.stream().allMatch(s -> s.closes.get() == 1));
    }
}
