package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceResponse;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.Test;

/** The JSON and binary tensor codec on its own, without a server. */
public class InferCodecTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GENERATED_ID = "019ad4c2-8f3e-7a01-9c4b-5e6f7a8b9c0d";
    private final InferRequestDecoder decoder = new InferRequestDecoder();
    private final InferResponseEncoder encoder = new InferResponseEncoder();

    private InferRequestDecoder.Decoded decode(String json) throws RequestException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        return decoder.decode("m", null, body, body.length, GENERATED_ID, id -> { }, "default");
    }

    private static String input(String type, String shape, String data) {
        return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"" + type + "\",\"shape\":" + shape + ",\"data\":" + data
                + "}]}";
    }

    private Tensor one(String type, String shape, String data) throws RequestException {
        return decode(input(type, shape, data)).request().inputs().get(0);
    }

    private String badRequest(String json) {
        try {
            decode(json);
        } catch (RequestException e) {
            assertEquals(RequestException.Kind.BAD_REQUEST, e.kind());
            return e.getMessage();
        }
        fail("expected a 400 for " + json);
        return null;
    }

    /** A parameter given as a string is named as one: "not 3" read as if 3 were refused. */
    @Test
    public void messagesNameAStringParameterAsAString() {
        String m = badRequest("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],"
                + "\"parameters\":{\"binary_data_size\":\"4\"}}]}");
        assertTrue(m, m.endsWith("binary_data_size must be a non-negative integer, not the string \"4\""));
        m = badRequest("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}],"
                + "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"classification\":\"3\"}}]}");
        assertTrue(m, m.endsWith("classification must be a positive integer (the number of top classes to return), "
                + "not the string \"3\""));
        m = badRequest("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}],"
                + "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"classification\":0}}]}");
        assertTrue(m, m.endsWith("to return), not 0"));
        // a long string is cut after 40 characters, never inside one (an emoji is two UTF-16 units)
        String emoji = "\uD83D\uDE00";
        m = badRequest("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],"
                + "\"parameters\":{\"binary_data_size\":\"" + "a".repeat(39) + emoji + "tail\"}}]}");
        assertTrue(m, m.endsWith("not the string \"" + "a".repeat(39) + emoji + "…\""));
        for (int i = 0; i < m.length(); i++) {
            assertTrue("a lone surrogate at " + i + ": " + m, !Character.isSurrogate(m.charAt(i))
                    || Character.isSurrogatePair(m.charAt(i), i + 1 < m.length() ? m.charAt(i + 1) : ' ')
                    || i > 0 && Character.isSurrogatePair(m.charAt(i - 1), m.charAt(i)));
        }
    }

    /** Inference-Header-Content-Length 0 with a body: the body is not empty, the header is wrong. */
    @Test
    public void aZeroJsonLengthWithABodyNamesTheHeader() {
        byte[] body = input("FP32", "[1]", "[1]").getBytes(StandardCharsets.UTF_8);
        RequestException e = org.junit.Assert.assertThrows(RequestException.class,
                () -> decoder.decode("m", null, body, 0, GENERATED_ID, id -> { }, "default"));
        assertEquals("Inference-Header-Content-Length is 0 but the body has " + body.length + " bytes: the body must"
                + " start with the infer request's JSON, and the header must give its length in bytes", e.getMessage());
        e = org.junit.Assert.assertThrows(RequestException.class,
                () -> decoder.decode("m", null, new byte[0], 0, GENERATED_ID, id -> { }, "default"));
        assertTrue(e.getMessage(), e.getMessage().startsWith("the infer request body is empty"));
    }

    /** Encodes {@code t} as the only output of a response and returns the output's JSON. */
    private JsonNode encoded(Tensor t) throws Exception {
        InferRequestDecoder.Decoded d = decode(input("INT8", "[1]", "[1]"));
        HttpReply reply = encoder.encode(new InferenceResponse("m", "1", "", List.of(t), 5, "cpu"), d, List.of(), false);
        return JSON.readTree(reply.body()).get("outputs").get(0);
    }

    @Test
    public void decodesEveryDatatypeAndEncodesItBack() throws Exception {
        String[][] cases = {
            {"BOOL", "[true,false,true]", "[true,false,true]"},
            {"UINT8", "[0,255,7]", "[0,255,7]"},
            {"UINT16", "[0,65535,7]", "[0,65535,7]"},
            {"UINT32", "[0,4294967295,7]", "[0,4294967295,7]"},
            {"UINT64", "[0,18446744073709551615,9223372036854775808]", "[0,18446744073709551615,9223372036854775808]"},
            {"INT8", "[-128,127,0]", "[-128,127,0]"},
            {"INT16", "[-32768,32767,0]", "[-32768,32767,0]"},
            {"INT32", "[-2147483648,2147483647,0]", "[-2147483648,2147483647,0]"},
            {"INT64", "[-9223372036854775808,9223372036854775807,0]", "[-9223372036854775808,9223372036854775807,0]"},
            {"FP16", "[0.1,65504,-0.0]", "[0.099975586,65504.0,-0.0]"},
            {"BF16", "[3.14159,1,-2.5]", "[3.140625,1.0,-2.5]"},
            {"FP32", "[0.1,-1e-30,3]", "[0.1,-1.0E-30,3.0]"},
            {"FP64", "[0.1,1e300,-3]", "[0.1,1.0E300,-3.0]"},
            {"BYTES", "[\"a\",\"héllo\",\"日本\"]", "[\"a\",\"héllo\",\"日本\"]"},
        };
        for (String[] c : cases) {
            Tensor t = one(c[0], "[3]", c[1]);
            assertEquals(DataType.valueOf(c[0]), t.type());
            JsonNode out = encoded(t);
            assertEquals(c[0], out.get("datatype").asText());
            assertEquals(c[0], JSON.readTree(c[2]), out.get("data"));
        }
    }

    @Test
    public void storesLittleEndianBits() throws Exception {
        assertEquals(-1L, one("UINT64", "[1]", "[18446744073709551615]").data().getLong(0));
        assertEquals(Long.MIN_VALUE, one("INT64", "[1]", "[-9223372036854775808]").data().getLong(0));
        assertEquals((short) 0x2e66, one("FP16", "[1]", "[0.1]").data().getShort(0));
        assertEquals((short) 0x7c00, one("FP16", "[1]", "[65520]").data().getShort(0));
        assertEquals((short) 0x3f80, one("BF16", "[1]", "[1.00390625]").data().getShort(0)); // tie to even
        assertEquals(0xff, one("UINT8", "[1]", "[255]").data().get(0) & 0xff);
        ByteBuffer b = one("INT32", "[1]", "[16909060]").data();
        assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
        byte[] raw = new byte[4];
        b.get(raw);
        assertArrayEquals(new byte[] {4, 3, 2, 1}, raw);
    }

    @Test
    public void rejectsOutOfRangeIntegers() {
        assertTrue(badRequest(input("UINT8", "[1]", "[256]")).contains("256, outside UINT8's range [0, 255]"));
        assertTrue(badRequest(input("UINT8", "[1]", "[-1]")).contains("outside UINT8's range"));
        assertTrue(badRequest(input("INT8", "[1]", "[-129]")).contains("outside INT8's range [-128, 127]"));
        assertTrue(badRequest(input("INT16", "[1]", "[32768]")).contains("INT16"));
        assertTrue(badRequest(input("UINT32", "[1]", "[4294967296]")).contains("UINT32"));
        assertTrue(badRequest(input("INT32", "[1]", "[2147483648]")).contains("INT32"));
        assertTrue(badRequest(input("INT64", "[1]", "[9223372036854775808]")).contains("INT64"));
        assertTrue(badRequest(input("UINT64", "[1]", "[18446744073709551616]")).contains("outside UINT64's range"));
        assertTrue(badRequest(input("UINT64", "[1]", "[-1]")).contains("outside UINT64's range"));
        assertTrue(badRequest(input("INT32", "[1]", "[1.5]")).contains("INT32 takes integers"));
        assertTrue(badRequest(input("BOOL", "[1]", "[1]")).contains("BOOL takes true or false"));
        assertTrue(badRequest(input("FP32", "[1]", "[\"x\"]")).contains("FP32 takes numbers"));
        assertTrue(badRequest(input("BYTES", "[1]", "[1]")).contains("BYTES takes strings"));
        assertTrue(badRequest(input("FP32", "[1]", "[{}]")).contains("is an object"));
    }

    @Test
    public void errorsGiveTheByteOffset() {
        String json = input("INT8", "[3]", "[1,2,300]");
        String message = badRequest(json);
        assertTrue(message, message.contains("at byte " + json.indexOf("300") + " "));
    }

    @Test
    public void flattensNestedDataRowMajor() throws Exception {
        Tensor t = one("INT32", "[2,3]", "[[1,2,3],[4,5,6]]");
        assertArrayEquals(new long[] {2, 3}, t.shape());
        int[] values = new int[6];
        t.data().asIntBuffer().get(values);
        assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6}, values);
        Tensor deep = one("FP32", "[2,2,2]", "[[[1,2],[3,4]],[[5,6],[7,8]]]");
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, deep.toFloats(), 0f);
    }

    @Test
    public void checksTheElementCountAgainstTheShape() {
        StringBuilder data = new StringBuilder("[");
        for (int i = 0; i < 783; i++) {
            data.append(i == 0 ? "" : ",").append("0.5");
        }
        String json = "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[1,1,28,28],\"data\":"
                + data + "]}]}";
        assertEquals("input 'image': shape [1,1,28,28] needs 784 elements but data has 783", badRequest(json));
        assertTrue(badRequest(input("FP32", "[2]", "[1,2,3]")).endsWith("needs 2 elements but data has 3"));
    }

    @Test
    public void readsDataThatComesBeforeItsDatatypeAndShape() throws Exception {
        Tensor t = decode("{\"inputs\":[{\"data\":[[1,2],[3,4]],\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"INT64\"}]}")
                .request().inputs().get(0);
        long[] values = new long[4];
        t.data().asLongBuffer().get(values);
        assertArrayEquals(new long[] {1, 2, 3, 4}, values);
        Tensor s = decode("{\"inputs\":[{\"data\":[\"q\\\"uote\"],\"datatype\":\"BYTES\",\"name\":\"s\",\"shape\":[1]}]}")
                .request().inputs().get(0);
        assertEquals("q\"uote", new String(s.strings().get(0), StandardCharsets.UTF_8));
        // an error inside late data still points at the right byte of the body
        String json = "{\"inputs\":[{\"data\":[1,999],\"name\":\"x\",\"shape\":[2],\"datatype\":\"INT8\"}]}";
        String message = badRequest(json);
        assertTrue(message, message.contains("at byte " + json.indexOf("999") + " "));
    }

    @Test
    public void acceptsAScalarAndNonFiniteFloats() throws Exception {
        assertEquals(7, one("INT32", "[]", "7").data().getInt(0));
        Tensor f = one("FP32", "[3]", "[NaN,\"Infinity\",\"-Infinity\"]");
        float[] v = f.toFloats();
        assertTrue(Float.isNaN(v[0]));
        assertEquals(Float.POSITIVE_INFINITY, v[1], 0f);
        assertEquals(Float.NEGATIVE_INFINITY, v[2], 0f);
        assertEquals(JSON.readTree("[\"NaN\",\"Infinity\",\"-Infinity\"]"), encoded(f).get("data"));
    }

    @Test
    public void aKeyTwiceInOneObjectIsA400NotTheLastOne() {
        String in = "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]";
        // a duplicated priority was silently the last: the request ran at a priority its sender may not have meant
        String m = badRequest("{\"parameters\":{\"priority\":1,\"priority\":2}," + in + "}");
        assertTrue(m, m.contains("Duplicate field 'priority'") && m.contains("line 1"));
        m = badRequest("{\"parameters\":{\"priority\":1}," + in + ",\"parameters\":{\"priority\":2}}");
        assertTrue(m, m.contains("Duplicate field 'parameters'"));
        m = badRequest("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1],"
                + "\"shape\":[2]}]}");
        assertTrue(m, m.contains("Duplicate field 'shape'"));
        m = badRequest("{" + in + ",\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":true,"
                + "\"binary_data\":false}}]}");
        assertTrue(m, m.contains("Duplicate field 'binary_data'"));
    }

    @Test
    public void readsRequestMembers() throws Exception {
        InferRequestDecoder.Decoded d = decode("{\"id\":\"42\",\"parameters\":{\"priority\":3,\"tag\":\"a\",\"n\":null},"
                + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}],"
                + "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"classification\":2}},{\"name\":\"z\","
                + "\"parameters\":{\"binary_data\":true}}],\"unknown\":{\"ignored\":[1]}}");
        assertEquals("42", d.request().id());
        assertEquals(3L, d.request().parameters().get("priority"));
        assertEquals("a", d.request().parameters().get("tag"));
        assertFalse(d.request().parameters().containsKey("n"));
        assertEquals(List.of("y", "z"), d.request().requestedOutputs());
        assertEquals(2, d.classificationFor("y"));
        assertEquals("the classification goes to serving (a route passes it on)", java.util.Map.of("y", 2),
                d.request().classification());
        assertTrue(d.binaryFor("z"));
        assertFalse(d.binaryFor("y"));
        InferRequestDecoder.Decoded all = decode("{\"parameters\":{\"binary_data_output\":true},\"inputs\":"
                + "[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}],"
                + "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":false}}]}");
        assertTrue(all.binaryFor("x"));
        assertFalse(all.binaryFor("y"));
        assertEquals("no id in the body: the generated one", GENERATED_ID, all.request().id());
    }

    @Test
    public void reportsTheClientsIdBeforeARefusalLaterInTheBody() throws Exception {
        List<String> told = new java.util.ArrayList<>();
        byte[] body = "{\"id\":\"cam-2\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2],\"data\":[1]}]}"
                .getBytes(StandardCharsets.UTF_8);
        try {
            decoder.decode("m", null, body, body.length, GENERATED_ID, told::add, "default");
            fail("2 elements expected, 1 given");
        } catch (RequestException e) {
            assertEquals(List.of("cam-2"), told);
        }
        byte[] invalid = "{\"id\":\"cam 2\",\"inputs\":[]}".getBytes(StandardCharsets.UTF_8);
        try {
            decoder.decode("m", null, invalid, invalid.length, GENERATED_ID, told::add, "default");
            fail("a space is not allowed in an id");
        } catch (RequestException e) {
            assertEquals(RequestException.Kind.BAD_REQUEST, e.kind());
            assertTrue(e.getMessage(), e.getMessage().startsWith("request id has ' ' (U+0020) at character 4; "));
            assertEquals("an invalid id is not reported", List.of("cam-2"), told);
        }
    }

    @Test
    public void reportsMalformedJsonWithItsLocation() {
        String message = badRequest("{\"inputs\": [\n{\"name\": \"x\",, }]}");
        assertTrue(message, message.startsWith("malformed JSON at line 2, column "));
        assertTrue(badRequest("[1,2]").contains("must be a JSON object"));
        assertTrue(badRequest("{\"inputs\":[]}").contains("has no inputs"));
        assertTrue(badRequest("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"data\":[1]}]}").contains("no \"datatype\""));
        assertTrue(badRequest("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP8\",\"shape\":[1],\"data\":[1]}]}")
                .contains("unknown datatype 'FP8'"));
        assertTrue(badRequest("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"data\":[1]}]}").contains("no \"shape\""));
        assertTrue(badRequest(input("FP32", "[-1]", "[1]")).contains("\"shape\" must be an array of non-negative"));
        assertTrue(badRequest("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1]}]}").contains("no \"data\""));
        assertTrue(badRequest("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]},"
                + "{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}").contains("given twice"));
        assertTrue(badRequest("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]} x")
                .contains("malformed JSON"));
        assertTrue(badRequest("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}],"
                + "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"classification\":0}}]}").contains("positive integer"));
    }

    @Test
    public void bytesThatAreNotUtf8GoOutAsBase64() throws Exception {
        byte[] bad = {(byte) 0xff, (byte) 0xfe, 0x41};
        String b64 = Base64.getEncoder().encodeToString(bad);
        Tensor t = decode("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"BYTES\",\"shape\":[2],"
                + "\"parameters\":{\"content_type\":\"base64\"},\"data\":[\"" + b64 + "\",\"aGk=\"]}]}")
                .request().inputs().get(0);
        assertArrayEquals(bad, t.strings().get(0));
        assertArrayEquals("hi".getBytes(StandardCharsets.UTF_8), t.strings().get(1));
        JsonNode out = encoded(t);
        assertEquals("base64", out.get("parameters").get("content_type").asText());
        assertEquals(b64, out.get("data").get(0).asText());
        assertEquals("aGk=", out.get("data").get(1).asText());
        assertFalse(encoded(Tensor.ofBytes("y", new long[] {1}, List.of("ok".getBytes(StandardCharsets.UTF_8))))
                .has("parameters"));
    }

    @Test
    public void classifiesTopKPerBatchRow() throws Exception {
        Tensor scores = Tensor.ofFloats("probs", new long[] {2, 4}, new float[] {0.1f, 0.7f, 0.15f, 0.05f,
            0.4f, 0.1f, 0.4f, 0.1f});
        Tensor top = Classification.topK(scores, 2, List.of("cat", "dog", "bird", "fish"), true);
        assertArrayEquals(new long[] {2, 2}, top.shape());
        assertEquals("0.700000:1:dog", new String(top.strings().get(0), StandardCharsets.UTF_8));
        assertEquals("0.150000:2:bird", new String(top.strings().get(1), StandardCharsets.UTF_8));
        assertEquals("0.400000:0:cat", new String(top.strings().get(2), StandardCharsets.UTF_8)); // tie: lower index
        assertEquals("0.400000:2:bird", new String(top.strings().get(3), StandardCharsets.UTF_8));
        Tensor unlabelled = Classification.topK(Tensor.ofInts("c", new long[] {3}, new int[] {5, 9, 1}), 5, List.of(),
                false);
        assertArrayEquals(new long[] {3}, unlabelled.shape());
        assertEquals("9.000000:1", new String(unlabelled.strings().get(0), StandardCharsets.UTF_8));
        assertEquals("1.000000:2", new String(unlabelled.strings().get(2), StandardCharsets.UTF_8));
    }

    @Test
    public void nanScoresRankLastAndEveryEntryNamesARealClass() throws Exception {
        float nan = Float.NaN;
        Tensor scores = Tensor.ofFloats("probs", new long[] {2, 3}, new float[] {nan, 0.2f, nan,
            nan, nan, nan});
        Tensor top = Classification.topK(scores, 3, List.of("a", "b", "c"), true);
        assertArrayEquals(new long[] {2, 3}, top.shape());
        List<String> got = new java.util.ArrayList<>();
        for (byte[] e : top.strings()) {
            got.add(new String(e, StandardCharsets.UTF_8));
        }
        // the number first, then the NaNs by lower index; never "nan:-1"
        assertEquals(List.of("0.200000:1:b", "nan:0:a", "nan:2:c", "nan:0:a", "nan:1:b", "nan:2:c"), got);
        // -Infinity is a number: it ranks above NaN
        Tensor inf = Classification.topK(Tensor.ofFloats("p", new long[] {2}, new float[] {nan,
            Float.NEGATIVE_INFINITY}), 1, List.of(), false);
        assertEquals("-Infinity:1", new String(inf.strings().get(0), StandardCharsets.UTF_8));
    }

    @Test
    public void anEmptyBatchClassifiesToShapeZeroByK() throws Exception {
        Tensor empty = Classification.topK(Tensor.ofFloats("probs", new long[] {0, 10}, new float[0]), 3, List.of(),
                true);
        assertArrayEquals(new long[] {0, 3}, empty.shape());
        assertEquals(0, empty.strings().size());
        // k above the classes is bounded by them, as for a full batch
        assertArrayEquals(new long[] {0, 2}, Classification.topK(Tensor.ofFloats("p", new long[] {0, 2},
                new float[0]), 5, List.of(), true).shape());
    }

    @Test
    public void binaryTensorDataExtension() throws Exception {
        String json = "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[2],"
                + "\"parameters\":{\"binary_data_size\":8}},"
                + "{\"name\":\"b\",\"datatype\":\"INT8\",\"shape\":[2],\"data\":[1,2]},"
                + "{\"name\":\"s\",\"datatype\":\"BYTES\",\"shape\":[2],\"parameters\":{\"binary_data_size\":11}}],"
                + "\"outputs\":[{\"name\":\"a\",\"parameters\":{\"binary_data\":true}},{\"name\":\"b\"},"
                + "{\"name\":\"s\",\"parameters\":{\"binary_data\":true}}]}";
        byte[] head = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bin = ByteBuffer.allocate(19).order(ByteOrder.LITTLE_ENDIAN);
        bin.putFloat(1.5f).putFloat(-2f);
        bin.putInt(3).put("abc".getBytes(StandardCharsets.UTF_8)).putInt(0);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(head);
        body.write(bin.array());
        byte[] all = body.toByteArray();
        InferRequestDecoder.Decoded d = decoder.decode("m", "1", all, head.length, GENERATED_ID, id -> { }, "default");
        List<Tensor> in = d.request().inputs();
        assertArrayEquals(new float[] {1.5f, -2f}, in.get(0).toFloats(), 0f);
        assertEquals(2, in.get(1).data().get(1));
        assertEquals("abc", new String(in.get(2).strings().get(0), StandardCharsets.UTF_8));
        assertEquals(0, in.get(2).strings().get(1).length);

        HttpReply reply = encoder.encode(new InferenceResponse("m", "1", "", in, 1, "cpu"), d, List.of(), false);
        assertEquals(HttpReply.OCTET_STREAM, reply.contentType());
        int jsonLength = Integer.parseInt(reply.headers().get(InferResponseEncoder.HEADER_LENGTH));
        JsonNode header = JSON.readTree(new String(reply.body(), 0, jsonLength, StandardCharsets.UTF_8));
        JsonNode outs = header.get("outputs");
        assertEquals(8, outs.get(0).get("parameters").get("binary_data_size").asInt());
        assertFalse(outs.get(0).has("data"));
        assertEquals(JSON.readTree("[1,2]"), outs.get(1).get("data"));
        assertEquals(11, outs.get(2).get("parameters").get("binary_data_size").asInt());
        byte[] tail = java.util.Arrays.copyOfRange(reply.body(), jsonLength, reply.body().length);
        assertArrayEquals(bin.array(), tail);

        // sizes that do not add up are refused
        String wrong = json.replace("\"binary_data_size\":8", "\"binary_data_size\":7");
        byte[] wrongHead = wrong.getBytes(StandardCharsets.UTF_8);
        byte[] wrongAll = new byte[wrongHead.length + 19];
        System.arraycopy(wrongHead, 0, wrongAll, 0, wrongHead.length);
        try {
            decoder.decode("m", "1", wrongAll, wrongHead.length, GENERATED_ID, id -> { }, "default");
            fail("expected a 400");
        } catch (RequestException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("needs 8 bytes of binary data but binary_data_size is 7"));
        }
    }
}
