package io.tollgate.endpoint.internal;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Decodes an Open Inference Protocol infer request body: JSON, optionally followed by the binary tensor data
 * extension's raw section (its JSON length given by the {@code Inference-Header-Content-Length} header).
 * Stateless; runs on the event loop.
 */
final class InferRequestDecoder {
    /** Request parameter asking for every output in binary (Triton's binary tensor data extension). */
    static final String BINARY_DATA_OUTPUT = "binary_data_output";

    /**
     * How the client asked for one output.
     *
     * @param name           output name
     * @param classification top-k classes to return instead of the raw tensor, 0 for the raw tensor
     * @param binary         true: binary section, false: JSON, null: the request-level default
     */
    record OutputRequest(String name, int classification, Boolean binary) {
    }

    /**
     * A decoded request.
     *
     * @param request        what goes to the serving layer
     * @param outputs        the outputs the client named, by name (empty: all, as JSON)
     * @param binaryOutputs  the request-level default for outputs without their own {@code binary_data}
     */
    record Decoded(InferenceRequest request, Map<String, OutputRequest> outputs, boolean binaryOutputs) {
        boolean binaryFor(String output) {
            OutputRequest o = outputs.get(output);
            return o != null && o.binary() != null ? o.binary() : binaryOutputs;
        }

        int classificationFor(String output) {
            OutputRequest o = outputs.get(output);
            return o == null ? 0 : o.classification();
        }
    }

    /** An input as read from JSON, before its data is turned into a tensor. */
    private static final class InputDraft {
        String name;
        DataType type;
        long[] shape;
        boolean base64;
        long binarySize = -1;
        Tensor tensor;
        int dataStart = -1;
        int dataEnd = -1;

        String label() {
            return name == null ? "an input without a name" : "input '" + name + "'";
        }
    }

    /**
     * @param body        the request body; the decoder may overwrite parts of its JSON it has read (see
     *                    {@link TensorJsonReader#read(JsonParser, byte[], int)}), so the caller gives it away
     * @param jsonLength  bytes of {@code body} that are JSON; the rest is the binary section
     * @param generatedId the request's id when the body has no {@code id} (or a null or empty one)
     * @param clientId    told the client's {@code id} as soon as it is read and valid, before the rest of the body
     *                    is decoded (so that a later refusal names it)
     * @param tenant      who is billed: the caller's tenant as {@link AccessGuard} found it; no part of the body
     *                    can change it
     * @throws RequestException BAD_REQUEST for an invalid client id ({@link InferenceRequest#checkId}'s message),
     *                          broken JSON or a bad tensor
     */
    Decoded decode(String model, String version, byte[] body, int jsonLength, String generatedId,
                   Consumer<String> clientId, String tenant) throws RequestException {
        if (jsonLength < 0 || jsonLength > body.length) {
            throw RequestException.badRequest("Inference-Header-Content-Length is " + jsonLength + " but the body has "
                    + body.length + " bytes; it must give the length of the JSON part of the body");
        }
        return decode(model, version, body, jsonLength, ByteBuffer.wrap(body, jsonLength, body.length - jsonLength)
                .slice(), generatedId, clientId, tenant);
    }

    /**
     * As {@link #decode(String, String, byte[], int, String, Consumer, String)}, with the binary section apart: the
     * endpoint copies a binary body's tensor bytes from Netty's buffer once, into a direct buffer that ONNX Runtime
     * then reads in place, instead of into a heap array first.
     *
     * @param json    holds the JSON part in its first {@code jsonLength} bytes (overwritten as the other method says)
     * @param binary  the binary section, from its position to its limit; tensors read from it share its memory
     */
    Decoded decode(String model, String version, byte[] json, int jsonLength, ByteBuffer binary, String generatedId,
                   Consumer<String> clientId, String tenant) throws RequestException {
        byte[] body = json;
        String id = generatedId;
        Map<String, Object> parameters = Map.of();
        List<InputDraft> inputs = List.of();
        Map<String, OutputRequest> outputs = new LinkedHashMap<>();
        try (JsonParser p = JsonBodies.FACTORY.createParser(body, 0, jsonLength)) {
            JsonToken first = p.nextToken();
            if (first == null && jsonLength == 0 && binary.hasRemaining()) {
                throw RequestException.badRequest("Inference-Header-Content-Length is 0 but the body has "
                        + binary.remaining() + " bytes: the body must start with the infer request's JSON, and the "
                        + "header must give its length in bytes");
            }
            if (first == null) {
                throw RequestException.badRequest("the infer request body is empty; send a JSON object such as "
                        + "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1,2]}]}");
            }
            if (first != JsonToken.START_OBJECT) {
                throw RequestException.badRequest("the infer request must be a JSON object such as "
                        + "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1,2]}]}"
                        + location(p.currentTokenLocation()));
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "id":
                        // The protocol's id is a string: a number or boolean is refused, not turned into text.
                        if (value != JsonToken.VALUE_STRING && value != JsonToken.VALUE_NULL) {
                            throw RequestException.badRequest("\"id\" must be a string"
                                    + location(p.currentTokenLocation()));
                        }
                        String given = value == JsonToken.VALUE_NULL ? "" : p.getText();
                        if (!given.isEmpty()) {
                            id = checkedId(given);
                            clientId.accept(id);
                        }
                        break;
                    case "parameters":
                        parameters = parameters(p, value, "request parameters");
                        break;
                    case "inputs":
                        inputs = inputs(p, value, body, jsonLength);
                        break;
                    case "outputs":
                        outputs(p, value, outputs);
                        break;
                    default:
                        p.skipChildren(); // unknown members are ignored, as the protocol allows extensions
                        break;
                }
            }
            requireEnd(p, "the infer request");
        } catch (JsonProcessingException e) {
            throw malformed(e);
        } catch (IOException e) {
            throw new RequestException(RequestException.Kind.BAD_REQUEST, "cannot read the request body: " + e, e);
        }
        if (inputs.isEmpty()) {
            throw RequestException.badRequest("the infer request has no inputs; send \"inputs\":[{\"name\":...,"
                    + "\"datatype\":...,\"shape\":[...],\"data\":[...]}]");
        }
        List<Tensor> tensors = tensors(inputs, body, binary.slice());
        Object binaryOutput = parameters.get(BINARY_DATA_OUTPUT);
        Map<String, Integer> classification = new java.util.HashMap<>();
        for (OutputRequest o : outputs.values()) {
            if (o.classification() > 0) {
                classification.put(o.name(), o.classification());
            }
        }
        // the classification goes down too: a remote route passes it on (the remote knows its labels), decision
        // 2026-12-01 "Hybrid overflow defects"
        InferenceRequest request = new InferenceRequest(model, version, id, tensors, List.copyOf(outputs.keySet()),
                tenant, parameters, classification);
        return new Decoded(request, Map.copyOf(outputs), Boolean.TRUE.equals(binaryOutput));
    }

    private static String checkedId(String id) throws RequestException {
        try {
            return InferenceRequest.checkId(id);
        } catch (IllegalArgumentException e) {
            throw RequestException.badRequest(e.getMessage());
        }
    }

    /** A parameter's value for a message: a string is named as one ("the string \"3\""), so it is not read as 3. */
    private static String shown(Object value) {
        // cut after 40 characters (code points: never between the two halves of a surrogate pair)
        return value instanceof String t ? "the string \"" + (t.codePointCount(0, t.length()) > 40
                ? t.substring(0, t.offsetByCodePoints(0, 40)) + "…" : t) + "\"" : String.valueOf(value);
    }

    /**
     * Refuses content after the object the parser has just closed ({@code p} stands on its END_OBJECT): Jackson stops
     * at the end of the first value, so a second object, or text after it, would otherwise be dropped silently.
     *
     * @param what the request, for the message ("the infer request")
     * @throws RequestException 400 "unexpected content after the infer request's JSON object at line L, column C"
     */
    static void requireEnd(JsonParser p, String what) throws IOException, RequestException {
        if (p.nextToken() != null) {
            throw RequestException.badRequest("unexpected content after " + what + "'s JSON object"
                    + location(p.currentTokenLocation()));
        }
    }

    /** A 400 for broken JSON, with the parser's line and column. */
    static RequestException malformed(JsonProcessingException e) {
        return new RequestException(RequestException.Kind.BAD_REQUEST,
                "malformed JSON" + location(e.getLocation()) + ": " + e.getOriginalMessage(), e);
    }

    static String location(JsonLocation l) {
        if (l == null) {
            return "";
        }
        return " at line " + l.getLineNr() + ", column " + l.getColumnNr() + " (byte " + l.getByteOffset() + ")";
    }

    private static String scalarText(JsonParser p, JsonToken value, String what) throws IOException, RequestException {
        if (value == JsonToken.VALUE_NULL) {
            return "";
        }
        if (!value.isScalarValue()) {
            throw RequestException.badRequest("\"" + what + "\" must be a string" + location(p.currentTokenLocation()));
        }
        return p.getText();
    }

    private static Map<String, Object> parameters(JsonParser p, JsonToken value, String what)
            throws IOException, RequestException {
        if (value == JsonToken.VALUE_NULL) {
            return Map.of();
        }
        if (value != JsonToken.START_OBJECT) {
            throw RequestException.badRequest(what + " must be a JSON object" + location(p.currentTokenLocation()));
        }
        Map<String, Object> map = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) JsonBodies.readValue(p)).entrySet()) {
            if (e.getValue() != null) {
                map.put((String) e.getKey(), e.getValue());
            }
        }
        return map;
    }

    private List<InputDraft> inputs(JsonParser p, JsonToken value, byte[] body, int jsonLength)
            throws IOException, RequestException {
        if (value != JsonToken.START_ARRAY) {
            throw RequestException.badRequest("\"inputs\" must be an array of tensors"
                    + location(p.currentTokenLocation()));
        }
        List<InputDraft> drafts = new ArrayList<>();
        Set<String> names = new HashSet<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.START_OBJECT) {
                throw RequestException.badRequest("\"inputs\" must hold objects {\"name\",\"datatype\",\"shape\","
                        + "\"data\"}" + location(p.currentTokenLocation()));
            }
            InputDraft d = input(p, body, jsonLength);
            if (d.name == null || d.name.isEmpty()) {
                throw RequestException.badRequest("input #" + drafts.size() + " has no \"name\"");
            }
            if (!names.add(d.name)) {
                throw RequestException.badRequest("input '" + d.name + "' is given twice");
            }
            drafts.add(d);
        }
        return drafts;
    }

    private InputDraft input(JsonParser p, byte[] body, int jsonLength) throws IOException, RequestException {
        InputDraft d = new InputDraft();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "name":
                    d.name = scalarText(p, value, "name");
                    break;
                case "datatype":
                    try {
                        d.type = DataType.parse(scalarText(p, value, "datatype"));
                    } catch (IllegalArgumentException e) {
                        throw RequestException.badRequest(d.label() + ": " + e.getMessage());
                    }
                    break;
                case "shape":
                    d.shape = shape(p, value, d);
                    break;
                case "parameters":
                    inputParameters(d, parameters(p, value, d.label() + " parameters"));
                    break;
                case "data":
                    if (d.name != null && d.type != null && d.shape != null && d.binarySize < 0) {
                        // the usual order (name, datatype, shape, data): decode in place, one pass
                        long remaining = jsonLength - p.currentTokenLocation().getByteOffset();
                        d.tensor = new TensorJsonReader(d.name, d.type, d.shape, d.base64, 0, remaining / 2 + 1)
                                .read(p, body, jsonLength);
                    } else {
                        // data came before what it needs: remember where it is and read it afterwards
                        d.dataStart = (int) p.currentTokenLocation().getByteOffset();
                        if (value.isScalarValue()) {
                            p.getText(); // a string token is read lazily: finish it so the location is past it
                        }
                        p.skipChildren();
                        d.dataEnd = (int) p.currentLocation().getByteOffset();
                    }
                    break;
                default:
                    p.skipChildren();
                    break;
            }
        }
        if (d.type == null) {
            throw RequestException.badRequest(d.label() + " has no \"datatype\"; give one of "
                    + java.util.Arrays.toString(DataType.values()));
        }
        if (d.shape == null) {
            throw RequestException.badRequest(d.label() + " has no \"shape\"; give the dimensions of its data, "
                    + "e.g. \"shape\":[1,3]");
        }
        return d;
    }

    private static void inputParameters(InputDraft d, Map<String, Object> params) throws RequestException {
        Object size = params.get("binary_data_size");
        if (size != null) {
            if (!(size instanceof Long) || (Long) size < 0) {
                throw RequestException.badRequest(d.label() + ": binary_data_size must be a non-negative integer, "
                        + "not " + shown(size));
            }
            d.binarySize = (Long) size;
        }
        Object contentType = params.get("content_type");
        if (contentType != null) {
            if ("base64".equals(contentType)) {
                d.base64 = true;
            } else if (!"str".equals(contentType)) {
                throw RequestException.badRequest(d.label() + ": content_type '" + contentType
                        + "' is not supported; use \"str\" (UTF-8 strings) or \"base64\"");
            }
        }
    }

    private static long[] shape(JsonParser p, JsonToken value, InputDraft d) throws IOException, RequestException {
        if (value != JsonToken.START_ARRAY) {
            throw RequestException.badRequest(d.label() + ": \"shape\" must be an array of non-negative integers"
                    + location(p.currentTokenLocation()));
        }
        long[] dims = new long[8];
        int n = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    || p.getLongValue() < 0) {
                throw RequestException.badRequest(d.label() + ": \"shape\" must be an array of non-negative integers,"
                        + " found " + p.getText() + location(p.currentTokenLocation()));
            }
            if (n == dims.length) {
                dims = java.util.Arrays.copyOf(dims, n * 2);
            }
            dims[n++] = p.getLongValue();
        }
        return java.util.Arrays.copyOf(dims, n);
    }

    private static void outputs(JsonParser p, JsonToken value, Map<String, OutputRequest> into)
            throws IOException, RequestException {
        if (value != JsonToken.START_ARRAY) {
            throw RequestException.badRequest("\"outputs\" must be an array of {\"name\",\"parameters\"}"
                    + location(p.currentTokenLocation()));
        }
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.START_OBJECT) {
                throw RequestException.badRequest("\"outputs\" must hold objects {\"name\",\"parameters\"}"
                        + location(p.currentTokenLocation()));
            }
            String name = null;
            Map<String, Object> params = Map.of();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken v = p.nextToken();
                if ("name".equals(field)) {
                    name = scalarText(p, v, "name");
                } else if ("parameters".equals(field)) {
                    params = parameters(p, v, "output parameters");
                } else {
                    p.skipChildren();
                }
            }
            if (name == null || name.isEmpty()) {
                throw RequestException.badRequest("requested output #" + into.size() + " has no \"name\"");
            }
            int k = 0;
            Object classification = params.get("classification");
            if (classification != null) {
                if (!(classification instanceof Long) || (Long) classification < 1
                        || (Long) classification > Integer.MAX_VALUE) {
                    throw RequestException.badRequest("output '" + name + "': classification must be a positive "
                            + "integer (the number of top classes to return), not " + shown(classification));
                }
                k = (int) (long) (Long) classification;
            }
            Boolean binary = null;
            Object b = params.get("binary_data");
            if (b != null) {
                if (!(b instanceof Boolean)) {
                    throw RequestException.badRequest("output '" + name + "': binary_data must be true or false, not "
                            + b);
                }
                binary = (Boolean) b;
            }
            if (into.put(name, new OutputRequest(name, k, binary)) != null) {
                throw RequestException.badRequest("output '" + name + "' is requested twice");
            }
        }
    }

    private static List<Tensor> tensors(List<InputDraft> drafts, byte[] body, ByteBuffer binary)
            throws RequestException {
        List<Tensor> tensors = new ArrayList<>(drafts.size());
        int binaryPos = 0;
        int binaryLength = binary.remaining();
        for (InputDraft d : drafts) {
            if (d.binarySize >= 0) {
                if (d.tensor != null || d.dataStart >= 0) {
                    throw RequestException.badRequest(d.label() + " has both \"data\" and binary_data_size; send one");
                }
                if (d.binarySize > binaryLength - binaryPos) {
                    throw RequestException.badRequest(d.label() + ": binary_data_size is " + d.binarySize + " but only "
                            + (binaryLength - binaryPos) + " bytes of binary data are left in the body");
                }
                tensors.add(BinaryTensors.read(d.name, d.type, d.shape, binary, binaryPos, (int) d.binarySize));
                binaryPos += (int) d.binarySize;
            } else if (d.tensor != null) {
                tensors.add(d.tensor);
            } else if (d.dataStart >= 0) {
                tensors.add(replay(d, body));
            } else {
                throw RequestException.badRequest(d.label() + " has no \"data\" (and no binary_data_size parameter)");
            }
        }
        if (binaryPos != binaryLength) {
            throw RequestException.badRequest("the body has " + (binaryLength - binaryPos) + " bytes after the JSON "
                    + "and the binary inputs; Inference-Header-Content-Length or a binary_data_size is wrong");
        }
        return tensors;
    }

    private static Tensor replay(InputDraft d, byte[] body) throws RequestException {
        int length = d.dataEnd - d.dataStart;
        try (JsonParser p = JsonBodies.FACTORY.createParser(body, d.dataStart, length)) {
            p.nextToken();
            return new TensorJsonReader(d.name, d.type, d.shape, d.base64, d.dataStart, length / 2 + 1).read(p);
        } catch (JsonProcessingException e) {
            throw malformed(e);
        } catch (IOException e) {
            throw new RequestException(RequestException.Kind.BAD_REQUEST, "cannot read the data of " + d.label(), e);
        }
    }
}
