package io.tollgate.endpoint.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Encodes an infer response: JSON with each output's data flat, or, for outputs asked for in binary, JSON
 * followed by the binary section (binary tensor data extension). BYTES outputs are JSON strings when every
 * element is valid UTF-8; otherwise the whole tensor is base64 and the output carries
 * {@code "parameters":{"content_type":"base64"}}. Non-finite floats are written as the strings "NaN",
 * "Infinity", "-Infinity" (JSON has no such numbers; the decoder accepts them back). Runs on the event loop.
 */
final class InferResponseEncoder {
    static final String HEADER_LENGTH = "Inference-Header-Content-Length";

    /**
     * @param labels  the model's class labels, for classification outputs
     * @param batched whether the model's first dimension is the batch
     */
    HttpReply encode(InferenceResponse response, InferRequestDecoder.Decoded request, List<String> labels,
                     boolean batched) throws RequestException {
        List<Tensor> outputs = new ArrayList<>(response.outputs().size());
        for (Tensor t : response.outputs()) {
            int k = request.classificationFor(t.name());
            // a route's remote was asked the classification and answered it (its labels): handed on as it came
            boolean classifiedByRemote = t.type() == DataType.BYTES && response.accelerator() != null
                    && response.accelerator().startsWith("remote:");
            outputs.add(k > 0 && !classifiedByRemote ? Classification.topK(t, k, labels, batched) : t);
        }
        // binary outputs are written once, straight into the response body after the JSON (no growing buffer)
        long binaryTotal = 0;
        boolean binary = false;
        int[] binarySizes = new int[outputs.size()];
        for (int i = 0; i < outputs.size(); i++) {
            if (request.binaryFor(outputs.get(i).name())) {
                binarySizes[i] = Math.toIntExact(BinaryTensors.size(outputs.get(i)));
                binaryTotal += binarySizes[i];
                binary = true;
            } else {
                binarySizes[i] = -1;
            }
        }
        long sizeHint = 256;
        for (Tensor t : outputs) {
            sizeHint += t.type().isFixedSize() ? t.elementCount() * 12 : t.elementCount() * 16;
        }
        byte[] json = JsonBodies.bytes(g -> {
            g.writeStartObject();
            g.writeStringField("model_name", response.model());
            g.writeStringField("model_version", response.version());
            g.writeStringField("id", request.request().id());   // the endpoint's word on the id, whoever served
            g.writeObjectFieldStart("parameters");
            g.writeStringField("accelerator", response.accelerator() == null ? "" : response.accelerator());
            g.writeNumberField("compute_time_ns", response.computeNanos());
            g.writeEndObject();
            g.writeArrayFieldStart("outputs");
            for (int i = 0; i < outputs.size(); i++) {
                writeOutput(g, outputs.get(i), binarySizes[i]);
            }
            g.writeEndArray();
            g.writeEndObject();
        }, (int) Math.min(sizeHint, 1 << 24));
        if (!binary) {
            return HttpReply.json(HttpResponseStatus.OK, json);
        }
        byte[] body = new byte[Math.toIntExact(json.length + binaryTotal)];
        System.arraycopy(json, 0, body, 0, json.length);
        ByteBuffer out = ByteBuffer.wrap(body, json.length, (int) binaryTotal);
        for (int i = 0; i < outputs.size(); i++) {
            if (binarySizes[i] >= 0) {
                BinaryTensors.write(outputs.get(i), out);
            }
        }
        return new HttpReply(HttpResponseStatus.OK, HttpReply.OCTET_STREAM, body,
                Map.of(HEADER_LENGTH, Integer.toString(json.length)));
    }

    private static void writeOutput(JsonGenerator g, Tensor t, int binarySize) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", t.name());
        g.writeStringField("datatype", t.type().name());
        g.writeArrayFieldStart("shape");
        for (long d : t.shape()) {
            g.writeNumber(d);
        }
        g.writeEndArray();
        if (binarySize >= 0) {
            g.writeObjectFieldStart("parameters");
            g.writeNumberField("binary_data_size", binarySize);
            g.writeEndObject();
        } else if (t.type() == DataType.BYTES) {
            List<String> texts = utf8(t.strings());
            if (texts == null) {
                g.writeObjectFieldStart("parameters");
                g.writeStringField("content_type", "base64");
                g.writeEndObject();
                g.writeArrayFieldStart("data");
                Base64.Encoder b64 = Base64.getEncoder();
                for (byte[] e : t.strings()) {
                    g.writeString(b64.encodeToString(e));
                }
            } else {
                g.writeArrayFieldStart("data");
                for (String s : texts) {
                    g.writeString(s);
                }
            }
            g.writeEndArray();
        } else {
            g.writeArrayFieldStart("data");
            writeFixed(g, t.type(), t.data(), (int) t.elementCount());
            g.writeEndArray();
        }
        g.writeEndObject();
    }

    /** The elements as strings, or null when one is not valid UTF-8. */
    private static List<String> utf8(List<byte[]> elements) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String> out = new ArrayList<>(elements.size());
        for (byte[] e : elements) {
            try {
                CharBuffer chars = decoder.decode(ByteBuffer.wrap(e));
                out.add(chars.toString());
            } catch (CharacterCodingException ex) {
                return null;
            }
        }
        return out;
    }

    private static void writeFixed(JsonGenerator g, DataType type, ByteBuffer data, int count) throws IOException {
        switch (type) {
            case BOOL:
                for (int i = 0; i < count; i++) {
                    g.writeBoolean(data.get(i) != 0);
                }
                break;
            case INT8:
                for (int i = 0; i < count; i++) {
                    g.writeNumber(data.get(i));
                }
                break;
            case UINT8:
                for (int i = 0; i < count; i++) {
                    g.writeNumber(data.get(i) & 0xff);
                }
                break;
            case INT16:
                for (int i = 0; i < count; i++) {
                    g.writeNumber(data.getShort(i * 2));
                }
                break;
            case UINT16:
                for (int i = 0; i < count; i++) {
                    g.writeNumber(data.getShort(i * 2) & 0xffff);
                }
                break;
            case INT32:
                for (int i = 0; i < count; i++) {
                    g.writeNumber(data.getInt(i * 4));
                }
                break;
            case UINT32:
                for (int i = 0; i < count; i++) {
                    g.writeNumber(data.getInt(i * 4) & 0xffff_ffffL);
                }
                break;
            case INT64:
                for (int i = 0; i < count; i++) {
                    g.writeNumber(data.getLong(i * 8));
                }
                break;
            case UINT64:
                for (int i = 0; i < count; i++) {
                    long v = data.getLong(i * 8);
                    if (v >= 0) {
                        g.writeNumber(v);
                    } else {
                        g.writeNumber(Long.toUnsignedString(v)); // written as a raw number, not a string
                    }
                }
                break;
            case FP16:
                for (int i = 0; i < count; i++) {
                    g.writeNumber(HalfFloats.fromFp16(data.getShort(i * 2)));
                }
                break;
            case BF16:
                for (int i = 0; i < count; i++) {
                    g.writeNumber(HalfFloats.fromBf16(data.getShort(i * 2)));
                }
                break;
            case FP32:
                for (int i = 0; i < count; i++) {
                    g.writeNumber(data.getFloat(i * 4));
                }
                break;
            case FP64:
                for (int i = 0; i < count; i++) {
                    g.writeNumber(data.getDouble(i * 8));
                }
                break;
            default:
                throw new IllegalStateException("unhandled datatype " + type);
        }
    }
}
