package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.TensorSpec;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class ModelSignatureTest {
    private static final PluginInfo PLUGIN = new PluginInfo(3, "io.acme.fm", "1.0.0", "file:fm.jar", "3@1");
    private static final FakeModel MODEL = new FakeModel(
            List.of(new TensorSpec("image", DataType.FP32, new long[] {-1, 1, 28, 28})),
            List.of(new TensorSpec("probs", DataType.FP32, new long[] {-1, 10})), 0);

    private static ModelDescriptor declared(List<TensorSpec> inputs, List<TensorSpec> outputs) {
        return new ModelDescriptor("fm", "1.0.0", "onnx", "onnx", "model.onnx", inputs, outputs, 8, List.of(), "",
                "", Map.of());
    }

    private static String refusal(ModelDescriptor d) {
        try {
            ModelSignature.reconcile(PLUGIN, "TOLLGATE-INF/model.json", d, MODEL);
            fail("expected a mismatch");
            return null;
        } catch (PluginException e) {
            return e.getMessage();
        }
    }

    @Test
    public void takesTheModelsSignatureWhenNoneIsDeclared() throws Exception {
        ModelDescriptor d = ModelSignature.reconcile(PLUGIN, "TOLLGATE-INF/model.json", declared(List.of(), List.of()),
                MODEL);
        assertEquals(MODEL.inputs(), d.inputs());
        assertEquals(MODEL.outputs(), d.outputs());
    }

    @Test
    public void keepsADeclarationThatPinsDynamicDimensions() throws Exception {
        List<TensorSpec> pinned = List.of(new TensorSpec("image", DataType.FP32, new long[] {4, 1, 28, 28}));
        ModelDescriptor d = ModelSignature.reconcile(PLUGIN, "TOLLGATE-INF/model.json", declared(pinned, List.of()),
                MODEL);
        assertEquals(pinned, d.inputs());
        assertEquals(MODEL.outputs(), d.outputs());
    }

    @Test
    public void refusesAFixedDimensionThatDiffers() {
        assertEquals("plugin io.acme.fm 1.0.0: input 'image' is declared as FP32[-1,3,28,28] in TOLLGATE-INF/model.json"
                + " but the model file has FP32[-1,1,28,28]; fix the descriptor (or omit 'inputs' to take them from"
                + " the model)", refusal(declared(
                        List.of(new TensorSpec("image", DataType.FP32, new long[] {-1, 3, 28, 28})), List.of())));
        assertEquals("plugin io.acme.fm 1.0.0: output 'probs' is declared as FP32[-1] in TOLLGATE-INF/model.json but"
                + " the model file has FP32[-1,10]; fix the descriptor (or omit 'outputs' to take them from the model)",
                refusal(declared(List.of(), List.of(new TensorSpec("probs", DataType.FP32, new long[] {-1})))));
    }

    @Test
    public void refusesADynamicDeclarationOfAFixedDimension() {
        assertEquals("plugin io.acme.fm 1.0.0: output 'probs' is declared as FP32[-1,-1] in TOLLGATE-INF/model.json but"
                + " the model file has FP32[-1,10]; fix the descriptor (or omit 'outputs' to take them from the model)",
                refusal(declared(List.of(), List.of(new TensorSpec("probs", DataType.FP32, new long[] {-1, -1})))));
    }

    @Test
    public void refusesAnotherDatatype() {
        assertEquals("plugin io.acme.fm 1.0.0: input 'image' is declared as FP16[-1,1,28,28] in TOLLGATE-INF/model.json"
                + " but the model file has FP32[-1,1,28,28]; fix the descriptor (or omit 'inputs' to take them from"
                + " the model)", refusal(declared(
                        List.of(new TensorSpec("image", DataType.FP16, new long[] {-1, 1, 28, 28})), List.of())));
    }

    @Test
    public void refusesAnUnknownAndAnUndeclaredTensor() {
        assertEquals("plugin io.acme.fm 1.0.0: input 'pixels' is declared in TOLLGATE-INF/model.json but the model"
                + " file has no such input; its inputs are [image:FP32[-1,1,28,28]]", refusal(declared(
                        List.of(new TensorSpec("pixels", DataType.FP32, new long[] {-1, 784})), List.of())));
        FakeModel two = new FakeModel(List.of(new TensorSpec("a", DataType.FP32, new long[] {-1}),
                new TensorSpec("b", DataType.INT64, new long[] {-1})), List.of(), 0);
        try {
            ModelSignature.reconcile(PLUGIN, "TOLLGATE-INF/model.json",
                    declared(List.of(new TensorSpec("a", DataType.FP32, new long[] {-1})), List.of()), two);
            fail("an undeclared input passed");
        } catch (PluginException e) {
            assertEquals("plugin io.acme.fm 1.0.0: the model file has inputs [b:INT64[-1]] that TOLLGATE-INF/model.json"
                    + " does not declare; declare every input (or omit 'inputs' to take them from the model)",
                    e.getMessage());
        }
    }
}
