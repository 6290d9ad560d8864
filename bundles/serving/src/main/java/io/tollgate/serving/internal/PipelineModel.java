package io.tollgate.serving.internal;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import io.tollgate.pipeline.Pipeline;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineRequest;
import io.tollgate.pipeline.PipelineStage;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A capability plugin's model as serving holds it (issue 13): the plugin's {@link Pipeline} over its stage models,
 * each loaded by the descriptor's engine. To the repository, the scheduler and the statistics it is one
 * {@link LoadedModel} whose signature is the descriptor's {@code inputs}/{@code outputs}; a request runs through
 * {@link #serve} (with its id, tenant and parameters), its billed quantity comes from {@link #quantity}.
 *
 * <p>Threads: {@link #load} on a serving loader thread; {@link #quantity} on the caller's thread (the endpoint's event
 * loop: the pipeline's contract is that it is cheap); {@link #serve} concurrently on serving workers (at most the
 * version's {@code instance_group} count at once); {@link #close} once, after the last run returned (the version's
 * drain): the pipeline is closed first, then its stages.
 */
final class PipelineModel implements LoadedModel {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineModel.class);

    private final ModelDescriptor descriptor;
    private final Pipeline pipeline;
    private final Map<String, LoadedModel> stages;
    private final String label;

    private PipelineModel(ModelDescriptor descriptor, Pipeline pipeline, Map<String, LoadedModel> stages) {
        this.descriptor = descriptor;
        this.pipeline = pipeline;
        this.stages = stages;
        this.label = "pipeline " + descriptor.name();
    }

    /** Where placement put the stages: the accelerator id and precision ("" = the engine's choice). */
    record Target(String accelerator, String precision) {
    }

    /**
     * Loads every stage with {@code engine}, then instantiates the plugin's pipeline class from {@code source} and
     * opens it. On any failure what was loaded is closed and the refusal names the step.
     *
     * @param workRoot the folder under which each plugin gets {@code <symbolic name>/} ({@code data/plugins})
     * @throws PluginException naming the stage, the class or the pipeline's own message
     */
    static PipelineModel load(PluginSource source, InferenceEngine engine, ModelDescriptor descriptor, Target target,
                              long maxModelBytes, Path workRoot) throws PluginException {
        return load(source, engine, descriptor, target, maxModelBytes, workRoot,
                readStages(source, descriptor, maxModelBytes));
    }

    /**
     * The bytes of every stage's model file, in the descriptor's order (read once: the loader sizes the placement with
     * them, then loads them).
     *
     * @throws PluginException naming the stage when a file is missing, unreadable or larger than {@code maxModelBytes}
     */
    static Map<String, byte[]> readStages(PluginSource source, ModelDescriptor descriptor, long maxModelBytes)
            throws PluginException {
        return readStages(source, descriptor, maxModelBytes, null);
    }

    /**
     * As {@link #readStages(PluginSource, ModelDescriptor, long)}, taking {@code fileBytes} (the descriptor's
     * {@code file}, already read by the loader within the same limit; may be null) for the stage of that file instead
     * of reading it a second time.
     */
    static Map<String, byte[]> readStages(PluginSource source, ModelDescriptor descriptor, long maxModelBytes,
                                          byte[] fileBytes) throws PluginException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> stage : descriptor.pipeline().stages().entrySet()) {
            out.put(stage.getKey(), fileBytes != null && stage.getValue().equals(descriptor.file()) ? fileBytes
                    : readStage(source, stage.getKey(), stage.getValue(), maxModelBytes));
        }
        return out;
    }

    /** As {@link #load(PluginSource, InferenceEngine, ModelDescriptor, Target, long, Path)}, the stages read already. */
    static PipelineModel load(PluginSource source, InferenceEngine engine, ModelDescriptor descriptor, Target target,
                              long maxModelBytes, Path workRoot, Map<String, byte[]> stageBytes)
            throws PluginException {
        Map<String, LoadedModel> loaded = new LinkedHashMap<>();
        Pipeline pipeline = null;
        boolean ok = false;
        try {
            ModelArtifact.PluginResources resources = path -> readResource(source, path, maxModelBytes);
            for (Map.Entry<String, String> stage : descriptor.pipeline().stages().entrySet()) {
                loaded.put(stage.getKey(), loadStage(source, engine, descriptor, stage.getKey(), stage.getValue(),
                        stageBytes.get(stage.getKey()), target, resources));
            }
            pipeline = instantiate(source, descriptor.pipeline().className());
            Map<String, PipelineStage> views = new LinkedHashMap<>();
            loaded.forEach((name, model) -> views.put(name, PipelineStage.of(name, model)));
            Path work = workFolder(source, workRoot);
            PipelineContext context = PipelineContext.of(descriptor.name(), descriptor.version(), views,
                    path -> readResource(source, path, maxModelBytes), descriptor.parameters(), work);
            try {
                pipeline.open(context);
            } catch (PipelineException e) {
                throw new PluginException(source.label() + ": pipeline " + descriptor.pipeline().className()
                        + " could not open: " + e.getMessage(), e);
            } catch (RuntimeException | LinkageError e) {
                LOG.error("{}: pipeline {} threw in open()", source.label(), descriptor.pipeline().className(), e);
                throw new PluginException(source.label() + ": pipeline " + descriptor.pipeline().className()
                        + " threw in open(): " + e, e);
            }
            ok = true;
            LOG.info("{}: pipeline {} opened with stages {}", source.label(), descriptor.pipeline().className(),
                    describe(loaded));
            return new PipelineModel(descriptor, pipeline, loaded);
        } finally {
            if (!ok) {
                if (pipeline != null) {
                    closePipeline(source.label(), pipeline);
                }
                closeStages(source.label(), loaded);
            }
        }
    }

    private static byte[] readStage(PluginSource source, String stage, String file, long maxModelBytes)
            throws PluginException {
        String entry = DescriptorReader.entryPath(source.descriptorPath(), file);
        byte[] bytes;
        try {
            bytes = source.read(entry, maxModelBytes);
        } catch (PluginSource.TooLargeException e) {
            throw new PluginException(source.label() + ": stage " + stage + " model file " + entry + " inflates to"
                    + " more than " + e.limit() + " bytes, the limit max.model.bytes of io.tollgate.serving", e);
        } catch (IOException | RuntimeException e) {
            throw new PluginException(source.label() + ": stage " + stage + " model file " + entry
                    + " cannot be read: " + e, e);
        }
        if (bytes == null) {
            throw new PluginException(source.label() + ": stage " + stage + " model file " + entry + " (field"
                    + " 'pipeline.stages." + stage + "' of " + source.descriptorPath() + ") is missing from the plugin");
        }
        return bytes;
    }

    private static LoadedModel loadStage(PluginSource source, InferenceEngine engine, ModelDescriptor descriptor,
                                         String stage, String file, byte[] bytes, Target target,
                                         ModelArtifact.PluginResources resources) throws PluginException {
        String entry = DescriptorReader.entryPath(source.descriptorPath(), file);
        // the stage's own signature comes from its model file; the descriptor's inputs/outputs are the pipeline's
        ModelDescriptor stageDescriptor = new ModelDescriptor(descriptor.name() + "." + stage, descriptor.version(),
                descriptor.platform(), descriptor.engine(), file, List.of(), List.of(), 0, List.of(),
                descriptor.meter(), descriptor.licenseFeature(), descriptor.parameters(), descriptor.precision(),
                List.of());
        try {
            return engine.load(new ModelArtifact(stageDescriptor, bytes, source.label() + ", " + entry + " (stage "
                    + stage + ")", target.accelerator(), target.precision(), resources));
        } catch (EngineException e) {
            throw new PluginException(source.label() + ": stage " + stage + " (" + entry + "): engine '"
                    + engine.name() + "' cannot load the model (" + e.reason() + "): " + e.getMessage(), e);
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("{}: engine '{}' threw while loading stage {} ({})", source.label(), engine.name(), stage, entry, e);
            throw new PluginException(source.label() + ": stage " + stage + " (" + entry + "): engine '"
                    + engine.name() + "' failed while loading the model: " + e, e);
        }
    }

    private static Pipeline instantiate(PluginSource source, String className) throws PluginException {
        Class<?> type;
        try {
            type = source.loadClass(className);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new PluginException(source.label() + ": pipeline class " + className + " (field 'pipeline.class' of "
                    + source.descriptorPath() + ") cannot be loaded from the plugin: " + e
                    + "; the class must be in the plugin bundle (a private package) and its imports resolvable", e);
        }
        if (!Pipeline.class.isAssignableFrom(type)) {
            throw new PluginException(source.label() + ": pipeline class " + className + " does not implement "
                    + Pipeline.class.getName() + " (as the plugin's bundle sees it: it must import package"
                    + " io.tollgate.pipeline, never embed it)");
        }
        if (!Modifier.isPublic(type.getModifiers()) || Modifier.isAbstract(type.getModifiers())) {
            throw new PluginException(source.label() + ": pipeline class " + className + " must be a public,"
                    + " non-abstract class");
        }
        Constructor<?> constructor;
        try {
            constructor = type.getConstructor();
        } catch (NoSuchMethodException e) {
            throw new PluginException(source.label() + ": pipeline class " + className + " has no public"
                    + " no-argument constructor", e);
        }
        try {
            return (Pipeline) constructor.newInstance();
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            LOG.error("{}: the constructor of pipeline {} threw", source.label(), className, cause);
            throw new PluginException(source.label() + ": the constructor of pipeline class " + className + " threw: "
                    + cause, cause);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            throw new PluginException(source.label() + ": pipeline class " + className + " cannot be instantiated: "
                    + e, e);
        }
    }

    /**
     * {@code <tollgate.data>/plugins}: where the plugins' work folders are (the system property {@code tollgate.data}
     * the distribution sets, else {@code data} in the working directory, as the journal and the device key).
     */
    static Path workRoot() {
        String data = System.getProperty("tollgate.data", "");
        return (data.isBlank() ? Path.of("data") : Path.of(data)).resolve("plugins");
    }

    /** {@code <workRoot>/<symbolic name>/}, created {@code rwx------} (kept across restarts). */
    static Path workFolder(PluginSource source, Path workRoot) throws PluginException {
        Path folder = workRoot.resolve(source.symbolicName());
        try {
            Files.createDirectories(folder);
            try {
                Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx------"));
            } catch (UnsupportedOperationException e) {
                LOG.debug("{}: {} has no POSIX permissions on this file system", source.label(), folder);
            }
            return folder;
        } catch (IOException e) {
            throw new PluginException(source.label() + ": the plugin's work folder " + folder + " cannot be"
                    + " created: " + e, e);
        }
    }

    private static byte[] readResource(PluginSource source, String path, long maxBytes) throws IOException {
        if (!io.tollgate.model.PluginPaths.isInside(path)) {
            throw new IOException("plugin file '" + path + "' is not " + io.tollgate.model.PluginPaths.expected(
                    DescriptorReader.entryPath(source.descriptorPath(), "")));
        }
        String entry = DescriptorReader.entryPath(source.descriptorPath(), path);
        byte[] bytes = source.read(entry, maxBytes);
        if (bytes == null) {
            throw new java.io.FileNotFoundException(entry + " is missing from " + source.label());
        }
        return bytes;
    }

    private static String describe(Map<String, LoadedModel> stages) {
        List<String> parts = new ArrayList<>();
        stages.forEach((n, m) -> parts.add(n + " on " + m.accelerator()));
        return parts.toString();
    }

    // ---- serving ---------------------------------------------------------------------------------

    /** The pipeline's class name. */
    String className() {
        return descriptor.pipeline().className();
    }

    /**
     * The billed quantity of {@code request} in the descriptor's meter.
     *
     * @throws InferenceException BAD_REQUEST for the client's mistake (nothing metered), ENGINE_FAILURE when the
     *                            pipeline failed or threw
     */
    long quantity(PipelineRequest request) throws InferenceException {
        long q;
        try {
            q = pipeline.quantity(request);
        } catch (PipelineException e) {
            throw mapped(e);
        } catch (Throwable e) {
            // the plugin's bug (a deep recursion, a failed assert, running out of memory included): answered,
            // never left hanging
            throw thrown("quantity", request, e);
        }
        if (q < 0) {
            throw new InferenceException(Reason.ENGINE_FAILURE, label + " failed: " + className() + ".quantity"
                    + " returned " + q + " (a quantity is at least 0; the plugin's bug)");
        }
        return q;
    }

    /**
     * Runs {@code request} and keeps the outputs the client asked for.
     *
     * @throws InferenceException BAD_REQUEST for the client's mistake, ENGINE_FAILURE when the pipeline failed or threw
     */
    List<Tensor> serve(PipelineRequest request) throws InferenceException {
        List<Tensor> outputs;
        try {
            outputs = pipeline.run(request);
        } catch (PipelineException e) {
            throw mapped(e);
        } catch (Throwable e) {
            // the plugin's bug (a deep recursion, a failed assert, running out of memory included): answered,
            // never left hanging
            throw thrown("run", request, e);
        }
        if (outputs == null) {
            throw new InferenceException(Reason.ENGINE_FAILURE, label + " failed: " + className() + ".run returned"
                    + " null (the plugin's bug)");
        }
        List<Tensor> kept = new ArrayList<>(outputs.size());
        for (Tensor t : outputs) {
            if (t != null && request.wants(t.name())) {
                kept.add(t);
            }
        }
        for (String wanted : request.requestedOutputs()) {
            if (kept.stream().noneMatch(t -> t.name().equals(wanted))) {
                throw new InferenceException(Reason.ENGINE_FAILURE, label + " failed: " + className() + ".run"
                        + " returned no output '" + wanted + "' though the request asked for it (the plugin's bug)");
            }
        }
        return kept;
    }

    private InferenceException mapped(PipelineException e) {
        if (e.reason() == PipelineException.Reason.INVALID_INPUT) {
            return new InferenceException(Reason.BAD_REQUEST, e.getMessage(), e);
        }
        return new InferenceException(Reason.ENGINE_FAILURE, label + " failed: " + e.getMessage(), e);
    }

    private InferenceException thrown(String method, PipelineRequest request, Throwable e) {
        // the plugin's bug: the stack trace goes to the log once, the client gets the class and the message
        LOG.error("{}: {}.{} threw on request {}", label, className(), method, request.id(), e);
        if (e instanceof OutOfMemoryError) {
            return new InferenceException(Reason.OVERLOADED, "out of memory while serving " + label + ": retry later");
        }
        // no cause: the endpoint's line for the 500 would print the same stack trace a second time
        return new InferenceException(Reason.ENGINE_FAILURE, label + " failed: " + e.getClass().getName() + ": "
                + e.getMessage());
    }

    // ---- LoadedModel -----------------------------------------------------------------------------

    @Override
    public List<TensorSpec> inputs() {
        return descriptor.inputs();
    }

    @Override
    public List<TensorSpec> outputs() {
        return descriptor.outputs();
    }

    /** Where the stages run: the first stage's accelerator (placement puts all stages of a version on one). */
    @Override
    public String accelerator() {
        return stages.values().iterator().next().accelerator();
    }

    /**
     * Runs the pipeline for a request without an id (tools, tests): tenant {@code default}. Serving uses
     * {@link #serve}, which carries the request's id, tenant and parameters.
     */
    @Override
    public List<Tensor> run(List<Tensor> inputs, Set<String> requestedOutputs) throws EngineException {
        try {
            return serve(new PipelineRequest("direct", "default", inputs, List.copyOf(requestedOutputs), Map.of()));
        } catch (InferenceException e) {
            throw new EngineException(e.reason() == Reason.BAD_REQUEST ? EngineException.Reason.INVALID_INPUT
                    : EngineException.Reason.RUN_FAILED, e.getMessage(), e);
        }
    }

    /** Closes the pipeline, then its stages; what throws is logged and the rest still closes. */
    @Override
    public void close() {
        closePipeline(label, pipeline);
        closeStages(label, stages);
    }

    private static void closePipeline(String label, Pipeline pipeline) {
        try {
            pipeline.close();
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("{}: the pipeline's close() threw; its stages are closed anyway", label, e);
        }
    }

    private static void closeStages(String label, Map<String, LoadedModel> stages) {
        for (Map.Entry<String, LoadedModel> s : stages.entrySet()) {
            try {
                s.getValue().close();
            } catch (RuntimeException | LinkageError e) {
                LOG.warn("{}: closing stage {} threw: {}", label, s.getKey(), e.toString());
            }
        }
    }
}
