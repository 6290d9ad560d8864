package io.tollgate.serving.internal;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.model.DataType;
import io.tollgate.model.TensorSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test-only engine. A "model file" is text: lines {@code input NAME TYPE d,d,...},
 * {@code output NAME TYPE d,d,...} and {@code tag NUMBER} (the value the model's outputs carry, so
 * tests see which version answered). A file starting with {@code corrupt} is refused as CORRUPT_MODEL.
 */
final class FakeEngine implements InferenceEngine {
    private final String name;
    final AtomicInteger loads = new AtomicInteger();
    final List<FakeModel> models = new CopyOnWriteArrayList<>();
    /** When set, loads wait for it (to hold a model in LOADING). */
    volatile CountDownLatch loadGate;
    /** The artifact of the last load (what placement passed on: accelerator, precision). */
    volatile ModelArtifact lastArtifact;

    FakeEngine(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String accelerator() {
        return "fake-cpu";
    }

    @Override
    public LoadedModel load(ModelArtifact artifact) throws EngineException {
        loads.incrementAndGet();
        lastArtifact = artifact;
        CountDownLatch gate = loadGate;
        if (gate != null) {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        String text = new String(artifact.modelBytes(), StandardCharsets.UTF_8);
        if (text.startsWith("corrupt")) {
            throw new EngineException(EngineException.Reason.CORRUPT_MODEL, "protobuf parsing failed");
        }
        List<TensorSpec> inputs = new ArrayList<>();
        List<TensorSpec> outputs = new ArrayList<>();
        float tag = 0;
        for (String line : text.split("\n")) {
            String[] p = line.trim().split("\\s+");
            if (p.length == 4 && (p[0].equals("input") || p[0].equals("output"))) {
                String[] dims = p[3].split(",");
                long[] shape = new long[dims.length];
                for (int i = 0; i < dims.length; i++) {
                    shape[i] = Long.parseLong(dims[i]);
                }
                (p[0].equals("input") ? inputs : outputs).add(new TensorSpec(p[1], DataType.parse(p[2]), shape));
            } else if (p.length == 2 && p[0].equals("tag")) {
                tag = Float.parseFloat(p[1]);
            }
        }
        FakeModel model = new FakeModel(inputs, outputs, tag);
        models.add(model);
        return model;
    }

    /** A model text with one FP32 input {@code image} [-1,4] and one output {@code probs} [-1,2] carrying {@code tag}. */
    static String model(float tag) {
        return "input image FP32 -1,4\noutput probs FP32 -1,2\ntag " + tag + "\n";
    }
}
