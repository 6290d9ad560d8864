package io.tollgate.serving.internal;

import io.tollgate.metering.UsageEvent;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a request against the signature of the model version it was routed to, so the engine only
 * ever sees inputs that fit. Cheap (no element is read): it runs on the caller's thread. Every
 * refusal is a BAD_REQUEST saying what was wrong and what the model expects.
 */
final class RequestValidator {
    private RequestValidator() {
    }

    /** Longest tenant accepted, in bytes of UTF-8 (the usage record's limit for a string). */
    static final int MAX_TENANT_BYTES = UsageEvent.MAX_STRING_BYTES;

    /**
     * Inputs in model order and the output names to return (empty = all), ready for {@code LoadedModel.run},
     * and the quantity the request is billed for.
     *
     * @param quantity items in the request: the size of the first input's batch dimension when the model
     *                 batches ({@code max_batch_size > 0}), else 1
     */
    record Checked(List<Tensor> inputs, Set<String> outputs, long quantity) {
    }

    static Checked check(InferenceRequest request, ModelDescriptor model) throws InferenceException {
        String label = "model '" + model.name() + "' " + model.version();
        checkMeteredStrings(request);
        Map<String, Tensor> given = new HashMap<>();
        for (Tensor t : request.inputs()) {
            if (given.put(t.name(), t) != null) {
                throw bad("input '" + t.name() + "' is given more than once");
            }
        }
        Map<String, TensorSpec> specs = new HashMap<>();
        for (TensorSpec s : model.inputs()) {
            specs.put(s.name(), s);
        }
        for (Tensor t : request.inputs()) {
            if (!specs.containsKey(t.name())) {
                throw bad(label + " has no input '" + t.name() + "'; its inputs are " + TensorText.specs(model.inputs()));
            }
        }
        List<Tensor> ordered = new ArrayList<>(model.inputs().size());
        String batchInput = null;
        long batch = -1;
        for (TensorSpec spec : model.inputs()) {
            Tensor t = given.get(spec.name());
            if (t == null && model.isPipeline() && model.inputs().size() > 1) {
                // A pipeline with several inputs takes alternatives (voice-activity: 'audio' or 'pcm'), as Triton's
                // optional inputs: the pipeline says which combination it needs (400 from quantity, unbilled).
                continue;
            }
            if (t == null) {
                throw bad("input '" + spec.name() + "' is missing; " + label + " expects inputs "
                        + TensorText.specs(model.inputs()));
            }
            if (t.type() != spec.type()) {
                throw bad("input '" + spec.name() + "' has datatype " + t.type() + " but the model expects "
                        + spec.type());
            }
            long[] shape = t.shape();
            if (!spec.accepts(shape)) {
                throw bad("input '" + spec.name() + "' has shape " + TensorText.shape(shape)
                        + " but the model expects " + TensorText.shape(spec.shape()));
            }
            if (model.maxBatchSize() > 0 && shape.length > 0) {
                if (shape[0] > model.maxBatchSize()) {
                    throw bad("input '" + spec.name() + "' has a batch of " + shape[0] + " but " + label
                            + " takes at most " + model.maxBatchSize() + " per request; split the request");
                }
                if (batchInput == null) {
                    batchInput = spec.name();
                    batch = shape[0];
                } else if (shape[0] != batch) {
                    throw bad("inputs disagree on the batch size: '" + batchInput + "' has " + batch + " but '"
                            + spec.name() + "' has " + shape[0] + "; every input must carry the same batch");
                }
            }
            ordered.add(t);
        }
        Set<String> outputs = new LinkedHashSet<>();
        for (String name : request.requestedOutputs()) {
            if (model.outputs().stream().noneMatch(o -> o.name().equals(name))) {
                throw bad(label + " has no output '" + name + "'; its outputs are " + TensorText.names(model.outputs()));
            }
            outputs.add(name);
        }
        long quantity = model.maxBatchSize() > 0 && batch >= 0 ? batch : 1;
        return new Checked(List.copyOf(ordered), Set.copyOf(outputs), quantity);
    }

    /**
     * The request's own strings go into its usage record; refusing oversized ones here means the journal
     * can never refuse a record because of what a client sent. (The id needs no check: an
     * {@link InferenceRequest} cannot hold one longer than {@link InferenceRequest#MAX_ID_LENGTH} ASCII characters.)
     */
    private static void checkMeteredStrings(InferenceRequest request) throws InferenceException {
        int tenantBytes = utf8Length(request.tenant());
        if (tenantBytes > MAX_TENANT_BYTES) {
            throw bad("tenant is " + tenantBytes + " bytes of UTF-8; at most " + MAX_TENANT_BYTES + " are accepted");
        }
    }

    /** UTF-8 length without encoding (an unpaired surrogate counts as the 1 byte '?' it encodes to). */
    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                n++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    private static InferenceException bad(String message) {
        return new InferenceException(Reason.BAD_REQUEST, message);
    }
}
