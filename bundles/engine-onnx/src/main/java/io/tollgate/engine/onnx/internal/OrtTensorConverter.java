package io.tollgate.engine.onnx.internal;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.TensorInfo.OnnxTensorType;
import ai.onnxruntime.ValueInfo;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.EngineException.Reason;
import io.tollgate.model.DataType;
import io.tollgate.model.Shapes;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts between Tollgate's tensors and ONNX Runtime's: element types, specs and data.
 *
 * <p>Fixed-size data travels as raw little-endian bytes in both directions, so every value (NaN
 * payloads, negative zero, subnormals) arrives bit for bit. {@link DataType#BYTES} maps to ONNX
 * {@code STRING}, which ORT's Java API only accepts as {@link String}s and hands to the native side as
 * JNI "modified UTF-8"; that is byte-exact only for UTF-8 text without NUL and without characters
 * beyond U+FFFF, so other elements are refused rather than silently changed.
 */
final class OrtTensorConverter {
    private OrtTensorConverter() {
    }

    /** The Tollgate type of an ONNX element type, or null when Tollgate has none (complex, float8, undefined). */
    static DataType dataType(OnnxTensorType type) {
        return switch (type) {
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> DataType.FP32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> DataType.FP64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> DataType.FP16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> DataType.BF16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> DataType.INT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> DataType.INT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> DataType.INT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> DataType.INT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> DataType.UINT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> DataType.UINT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> DataType.UINT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> DataType.UINT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> DataType.BOOL;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> DataType.BYTES;
            default -> null;
        };
    }

    /**
     * The ORT Java type an input of {@code type} is built with, or null when ORT's Java API cannot build
     * one: it has no unsigned types wider than a byte (UINT16, UINT32, UINT64).
     */
    static OnnxJavaType inputJavaType(DataType type) {
        return switch (type) {
            case FP32 -> OnnxJavaType.FLOAT;
            case FP64 -> OnnxJavaType.DOUBLE;
            case FP16 -> OnnxJavaType.FLOAT16;
            case BF16 -> OnnxJavaType.BFLOAT16;
            case INT8 -> OnnxJavaType.INT8;
            case INT16 -> OnnxJavaType.INT16;
            case INT32 -> OnnxJavaType.INT32;
            case INT64 -> OnnxJavaType.INT64;
            case UINT8 -> OnnxJavaType.UINT8;
            case BOOL -> OnnxJavaType.BOOL;
            case BYTES -> OnnxJavaType.STRING;
            case UINT16, UINT32, UINT64 -> null;
        };
    }

    /**
     * The spec of a model input or output. Symbolic and unknown dimensions become -1.
     *
     * @param role "input" or "output", for messages
     * @throws EngineException {@link Reason#UNSUPPORTED} for non-tensor values and element types Tollgate lacks
     */
    static TensorSpec spec(String name, ValueInfo info, String role, String origin) throws EngineException {
        if (!(info instanceof TensorInfo tensor)) {
            throw new EngineException(Reason.UNSUPPORTED, "model " + origin + " " + role + " '" + name + "' is "
                    + info + ", not a tensor; Tollgate serves tensor inputs and outputs only (re-export the model"
                    + " without sequences/maps, e.g. skl2onnx zipmap=False)");
        }
        DataType type = dataType(tensor.onnxType);
        if (type == null) {
            throw new EngineException(Reason.UNSUPPORTED, "model " + origin + " " + role + " '" + name
                    + "' has element type " + tensor.onnxType + ", which has no Open Inference Protocol datatype");
        }
        long[] shape = tensor.getShape();
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                shape[i] = -1;
            }
        }
        return new TensorSpec(name, type, shape);
    }

    /**
     * Builds the ORT input for {@code tensor}. The caller closes it.
     *
     * @throws EngineException {@link Reason#UNSUPPORTED} for UINT16/32/64 (the model's limit here), {@link Reason#INVALID_INPUT}
     *                         for BYTES elements ORT's Java API
     *                         would alter
     */
    static OnnxTensor toOnnx(OrtEnvironment env, Tensor tensor, String origin) throws EngineException, OrtException {
        OnnxJavaType javaType = inputJavaType(tensor.type());
        if (javaType == null) {
            throw new EngineException(Reason.UNSUPPORTED, "input '" + tensor.name() + "' of model " + origin + " is "
                    + tensor.type() + ", which ONNX Runtime's Java API cannot pass to a model (it has no unsigned"
                    + " 16/32/64-bit tensors); re-export the model with a signed or wider input type");
        }
        long[] shape = tensor.shape();
        if (javaType == OnnxJavaType.STRING) {
            return OnnxTensor.createTensor(env, strings(tensor, origin), shape);
        }
        // ORT reads a direct buffer in place; the bytes are little-endian, which is native order on every
        // platform ORT ships for (checked once in OnnxEngine).
        // A direct buffer (the endpoint decodes large JSON tensors into one) is read in place: no copy.
        ByteBuffer src = tensor.data();
        ByteBuffer direct;
        if (src.isDirect()) {
            direct = src.slice().order(ByteOrder.LITTLE_ENDIAN);
        } else {
            direct = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
            direct.put(src).flip();
        }
        return OnnxTensor.createTensor(env, direct, shape, javaType);
    }

    /**
     * Converts an ORT output to a tensor named {@code name}.
     *
     * @throws EngineException {@link Reason#RUN_FAILED} when the value is not a tensor of a known type
     */
    static Tensor fromOnnx(String name, OnnxValue value, String origin) throws EngineException, OrtException {
        if (!(value instanceof OnnxTensor tensor)) {
            throw new EngineException(Reason.RUN_FAILED, "output '" + name + "' of model " + origin
                    + " is not a tensor but " + value.getInfo());
        }
        TensorInfo info = tensor.getInfo();
        DataType type = dataType(info.onnxType);
        if (type == null) {
            throw new EngineException(Reason.RUN_FAILED, "output '" + name + "' of model " + origin
                    + " has element type " + info.onnxType + ", which has no Open Inference Protocol datatype");
        }
        long[] shape = info.getShape();
        long count = Shapes.elementCount(shape);
        if (type == DataType.BYTES) {
            List<byte[]> elements = new ArrayList<>((int) count);
            if (count > 0) {
                flattenStrings(tensor.getValue(), elements);
            }
            return Tensor.ofBytes(name, shape, elements);
        }
        ByteBuffer bytes = count == 0 ? ByteBuffer.allocate(0) : tensor.getByteBuffer();
        return Tensor.of(name, type, shape, bytes);
    }

    /** ORT hands string tensors back as a String (scalar) or nested String arrays, row-major. */
    private static void flattenStrings(Object value, List<byte[]> out) {
        if (value instanceof String s) {
            out.add(s.getBytes(StandardCharsets.UTF_8));
        } else if (value instanceof Object[] array) {
            for (Object element : array) {
                flattenStrings(element, out);
            }
        } else {
            throw new IllegalStateException("ONNX Runtime returned " + value + " for a string tensor");
        }
    }

    private static String[] strings(Tensor tensor, String origin) throws EngineException {
        List<byte[]> elements = tensor.strings();
        String[] out = new String[elements.size()];
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        for (int i = 0; i < out.length; i++) {
            byte[] e = elements.get(i);
            String problem = null;
            for (byte b : e) {
                if (b == 0) {
                    problem = "holds a NUL byte";
                    break;
                }
                if ((b & 0xF8) == 0xF0) {
                    problem = "holds a character beyond U+FFFF (a 4-byte UTF-8 sequence)";
                    break;
                }
            }
            if (problem == null) {
                try {
                    CharBuffer chars = utf8.decode(ByteBuffer.wrap(e));
                    out[i] = chars.toString();
                } catch (CharacterCodingException notUtf8) {
                    problem = "is not valid UTF-8";
                }
            }
            if (problem != null) {
                throw new EngineException(Reason.INVALID_INPUT, "input '" + tensor.name() + "' of model " + origin
                        + ": element " + i + " " + problem + "; ONNX Runtime's Java API passes STRING tensors as"
                        + " JNI modified UTF-8, so the model would see other bytes. Send UTF-8 text without NUL and"
                        + " without characters beyond U+FFFF, or give the model a UINT8 input for raw bytes");
            }
        }
        return out;
    }
}
