package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.fail;

import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceRequest;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.Test;

public class RequestValidatorTest {
    private static final ModelDescriptor MODEL = new ModelDescriptor("fm", "1.0.0", "onnx", "onnx", "model.onnx",
            List.of(new TensorSpec("image", DataType.FP32, new long[] {-1, 1, 28, 28}),
                    new TensorSpec("mask", DataType.INT64, new long[] {-1, 2})),
            List.of(new TensorSpec("probs", DataType.FP32, new long[] {-1, 10}),
                    new TensorSpec("logits", DataType.FP32, new long[] {-1, 10})),
            4, List.of(), "", "", Map.of());

    private static Tensor image(long batch) {
        return Tensor.ofFloats("image", new long[] {batch, 1, 28, 28}, new float[(int) batch * 784]);
    }

    private static Tensor mask(long batch) {
        return Tensor.ofLongs("mask", new long[] {batch, 2}, new long[(int) batch * 2]);
    }

    private static InferenceRequest request(List<Tensor> inputs, List<String> outputs) {
        return new InferenceRequest("fm", null, "r1", inputs, outputs, null, null);
    }

    private static String refusal(List<Tensor> inputs, List<String> outputs) {
        return refusal(request(inputs, outputs), MODEL);
    }

    private static String refusal(InferenceRequest request, ModelDescriptor model) {
        try {
            RequestValidator.check(request, model);
            fail("expected BAD_REQUEST");
            return null;
        } catch (InferenceException e) {
            assertEquals(InferenceException.Reason.BAD_REQUEST, e.reason());
            return e.getMessage();
        }
    }

    @Test
    public void ordersInputsAsTheModelDoes() throws Exception {
        Tensor image = image(2);
        Tensor mask = mask(2);
        RequestValidator.Checked c = RequestValidator.check(request(List.of(mask, image), List.of("logits")), MODEL);
        assertSame(image, c.inputs().get(0));
        assertSame(mask, c.inputs().get(1));
        assertEquals(Set.of("logits"), c.outputs());
        assertEquals(Set.of(), RequestValidator.check(request(List.of(image, mask), List.of()), MODEL).outputs());
    }

    @Test
    public void refusesAMissingInput() {
        assertEquals("input 'mask' is missing; model 'fm' 1.0.0 expects inputs [image:FP32[-1,1,28,28],"
                + " mask:INT64[-1,2]]", refusal(List.of(image(1)), List.of()));
    }

    @Test
    public void refusesAnUnknownInput() {
        assertEquals("model 'fm' 1.0.0 has no input 'pixels'; its inputs are [image:FP32[-1,1,28,28], mask:INT64[-1,2]]",
                refusal(List.of(image(1), mask(1), Tensor.ofFloats("pixels", new long[] {1}, new float[1])), List.of()));
    }

    @Test
    public void refusesAnInputGivenTwice() {
        assertEquals("input 'image' is given more than once", refusal(List.of(image(1), image(1), mask(1)), List.of()));
    }

    @Test
    public void refusesAWrongDatatype() {
        Tensor doubles = Tensor.ofDoubles("image", new long[] {1, 1, 28, 28}, new double[784]);
        assertEquals("input 'image' has datatype FP64 but the model expects FP32",
                refusal(List.of(doubles, mask(1)), List.of()));
    }

    @Test
    public void refusesAWrongShapeOrRank() {
        assertEquals("input 'image' has shape [1,3] but the model expects [-1,1,28,28]",
                refusal(List.of(Tensor.ofFloats("image", new long[] {1, 3}, new float[3]), mask(1)), List.of()));
        assertEquals("input 'image' has shape [1,1,28,27] but the model expects [-1,1,28,28]",
                refusal(List.of(Tensor.ofFloats("image", new long[] {1, 1, 28, 27}, new float[756]), mask(1)), List.of()));
    }

    @Test
    public void refusesABatchAboveTheMaximum() {
        assertEquals("input 'image' has a batch of 5 but model 'fm' 1.0.0 takes at most 4 per request; split the"
                + " request", refusal(List.of(image(5), mask(5)), List.of()));
    }

    @Test
    public void refusesInputsThatDisagreeOnTheBatch() {
        assertEquals("inputs disagree on the batch size: 'image' has 2 but 'mask' has 3; every input must carry the"
                + " same batch", refusal(List.of(image(2), mask(3)), List.of()));
    }

    @Test
    public void ignoresBatchRulesForAModelWithoutBatchDimension() throws Exception {
        ModelDescriptor unbatched = new ModelDescriptor("u", "1.0.0", "onnx", "onnx", "m.onnx",
                List.of(new TensorSpec("a", DataType.FP32, new long[] {-1}),
                        new TensorSpec("b", DataType.FP32, new long[] {-1})),
                List.of(new TensorSpec("y", DataType.FP32, new long[] {-1})), 0, List.of(), "", "", Map.of());
        RequestValidator.check(new InferenceRequest("u", null, "r2", List.of(
                Tensor.ofFloats("a", new long[] {9}, new float[9]), Tensor.ofFloats("b", new long[] {3}, new float[3])),
                List.of(), null, null), unbatched);
    }

    @Test
    public void refusesAnUnknownRequestedOutput() {
        assertEquals("model 'fm' 1.0.0 has no output 'prob'; its outputs are [probs, logits]",
                refusal(List.of(image(1), mask(1)), List.of("prob")));
    }

    @Test
    public void aPipelineWithSeveralInputsTakesAnyOfThemAndOneWithOneInputNeedsIt() throws Exception {
        io.tollgate.model.PipelineSpec spec = new io.tollgate.model.PipelineSpec("io.acme.Vad",
                Map.of("vad", "vad.onnx"));
        ModelDescriptor vad = new ModelDescriptor("vad", "1.0.0", "onnx", "onnx", "vad.onnx",
                List.of(new TensorSpec("audio", DataType.BYTES, new long[] {1}),
                        new TensorSpec("pcm", DataType.FP32, new long[] {-1})),
                List.of(new TensorSpec("segments", DataType.FP32, new long[] {-1, 2})), 0, List.of(), "audio_seconds",
                "", Map.of(), "fp32", List.of(), spec);
        Tensor pcm = Tensor.ofFloats("pcm", new long[] {4}, new float[4]);
        RequestValidator.Checked c = RequestValidator.check(new InferenceRequest("vad", null, "r3", List.of(pcm),
                List.of(), null, null), vad);
        assertEquals(List.of(pcm), c.inputs());
        assertEquals("input 'pcm' has datatype FP64 but the model expects FP32", refusal(new InferenceRequest("vad",
                null, "r4", List.of(Tensor.ofDoubles("pcm", new long[] {1}, new double[1])), List.of(), null, null),
                vad));
        ModelDescriptor ocr = new ModelDescriptor("ocr", "1.0.0", "onnx", "onnx", "det.onnx",
                List.of(new TensorSpec("image", DataType.BYTES, new long[] {-1})),
                List.of(new TensorSpec("text", DataType.BYTES, new long[] {-1})), 0, List.of(), "images", "",
                Map.of(), "fp32", List.of(), new io.tollgate.model.PipelineSpec("io.acme.Ocr", Map.of("det", "det.onnx")));
        assertEquals("input 'image' is missing; model 'ocr' 1.0.0 expects inputs [image:BYTES[-1]]",
                refusal(new InferenceRequest("ocr", null, "r5", List.of(), List.of(), null, null), ocr));
    }
}
