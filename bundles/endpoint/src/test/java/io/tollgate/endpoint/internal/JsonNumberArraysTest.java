package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.core.JsonParser;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.Test;

/** The fast path for FP32/FP64 JSON arrays: bit for bit what Jackson's tokens give, and Jackson's errors for the rest. */
public class JsonNumberArraysTest {
    private static final String ID = "019ad4c2-8f3e-7a01-9c4b-5e6f7a8b9c0d";

    private static InferRequestDecoder.Decoded decode(String json) throws RequestException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        return new InferRequestDecoder().decode("m", null, body, body.length, ID, id -> { }, "default");
    }

    private static String request(String type, long n, String data) {
        return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"" + type + "\",\"shape\":[" + n + "],\"data\":" + data
                + "}],\"outputs\":[{\"name\":\"y\"}],\"parameters\":{\"p\":1}}";
    }

    /** The same data read by Jackson's tokens alone (the path every other datatype takes). */
    private static ByteBuffer jackson(String type, long n, String data) throws Exception {
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        try (JsonParser p = JsonBodies.FACTORY.createParser(bytes)) {
            p.nextToken();
            return new TensorJsonReader("x", DataType.parse(type), new long[] {n}, false, 0, bytes.length).read(p).data();
        }
    }

    private static String badRequest(String json) {
        try {
            decode(json);
        } catch (RequestException e) {
            assertEquals(RequestException.Kind.BAD_REQUEST, e.kind());
            return e.getMessage();
        }
        fail("expected a 400 for " + json);
        return null;
    }

    private static List<String> literals() {
        List<String> l = new ArrayList<>(List.of("0", "-0", "0.0", "-0.0", "1", "-1", "123456789012345678",
                "-123456789012345678", "16777217", "0.1", "0.3", "1e5", "1E5", "1e+5", "1e-5", "2.5E-3",
                "3.4028235e38", "3.4028236e38", "3.5e38", "1e39", "1e400", "-1e400", "1e-45", "1.4e-45", "7e-46",
                "1e-46", "1e-400", "1.17549435e-38", "1.1754942e-38", "0.00392156862745098", "0.9999999999999999",
                "1.7976931348623157e308", "4.9e-324", "2.4703282292062328e-324", "9007199254740993",
                "0.10000000000000000555111512312578270211815834045410156250001"));
        Random r = new Random(11);
        for (int i = 0; i < 3000; i++) {
            float f = Float.intBitsToFloat(r.nextInt());
            double d = Double.longBitsToDouble(r.nextLong());
            if (Float.isFinite(f)) {
                l.add(Float.toString(f));
            }
            if (Double.isFinite(d)) {
                l.add(Double.toString(d));
            }
            l.add(Double.toString(r.nextDouble()));                // numpy-like 16-17 digit literals
            l.add(Integer.toString(r.nextInt()));
            l.add(String.format("%.9e", r.nextGaussian() * 1e30));
        }
        return l;
    }

    @Test
    public void everyValueIsBitForBitWhatJacksonGives() throws Exception {
        List<String> literals = literals();
        String data = "[" + String.join(",", literals) + "]";
        for (String type : new String[] {"FP32", "FP64"}) {
            Tensor fast = decode(request(type, literals.size(), data)).request().inputs().get(0);
            assertTrue(type + ": the fast path decodes into a direct buffer", fast.data().isDirect());
            ByteBuffer expected = jackson(type, literals.size(), data);
            ByteBuffer got = fast.data();
            assertEquals(expected.remaining(), got.remaining());
            for (int i = 0; i < literals.size(); i++) {
                if (type.equals("FP32")) {
                    assertEquals(type + " " + literals.get(i), expected.getInt(i * 4), got.getInt(i * 4));
                } else {
                    assertEquals(type + " " + literals.get(i), expected.getLong(i * 8), got.getLong(i * 8));
                }
            }
        }
    }

    @Test
    public void nestedArraysWhitespaceAndTheRestOfTheBody() throws Exception {
        String json = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2,2,2],\"data\":\n"
                + "[ [ [1, 2.5] ,[\t3,4]],\r\n[[5,6],[ -7e0 ,8] ] ] ,\"parameters\":{}},"
                + "{\"name\":\"z\",\"datatype\":\"FP64\",\"shape\":[0],\"data\":[[],[]]}],"
                + "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":true}}],\"id\":\"after-the-data\"}";
        InferRequestDecoder.Decoded d = decode(json);
        Tensor x = d.request().inputs().get(0);
        assertTrue(x.data().isDirect());
        assertArrayEquals(new float[] {1, 2.5f, 3, 4, 5, 6, -7, 8}, x.toFloats(), 0f);
        assertEquals(0, d.request().inputs().get(1).elementCount());
        assertEquals("after-the-data", d.request().id());   // members after the blanked data are still read
        assertTrue(d.binaryFor("y"));
    }

    @Test
    public void jsonBeforeABinarySection() throws Exception {
        String header = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2],\"data\":[1,2]},"
                + "{\"name\":\"b\",\"datatype\":\"FP32\",\"shape\":[1],\"parameters\":{\"binary_data_size\":4}}]}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[json.length + 4];
        System.arraycopy(json, 0, body, 0, json.length);
        ByteBuffer.wrap(body, json.length, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(9f);
        InferRequestDecoder.Decoded d = new InferRequestDecoder().decode("m", null, body, json.length, ID, id -> { },
                "default");
        assertArrayEquals(new float[] {1, 2}, d.request().inputs().get(0).toFloats(), 0f);
        assertArrayEquals(new float[] {9}, d.request().inputs().get(1).toFloats(), 0f);
    }

    @Test
    public void whatItDoesNotHandleIsReadByJacksonAsBefore() throws Exception {
        // non-finite values: bare tokens and strings
        Tensor t = decode(request("FP32", 4, "[1,NaN,\"-Infinity\",2]")).request().inputs().get(0);
        float[] v = t.toFloats();
        assertEquals(1f, v[0], 0f);
        assertTrue(Float.isNaN(v[1]));
        assertEquals(Float.NEGATIVE_INFINITY, v[2], 0f);
        assertFalse("Jackson's path", t.data().isDirect());
        // a big integer
        assertEquals(1e19f, decode(request("FP32", 1, "[10000000000000000000]")).request().inputs().get(0)
                .toFloats()[0], 0f);
        // deep but legal nesting beyond the fast path's depth
        String deep = "[".repeat(40) + "1" + "]".repeat(40);
        assertArrayEquals(new float[] {1}, decode(request("FP32", 1, deep)).request().inputs().get(0).toFloats(), 0f);
    }

    @Test
    public void hostileDataGetsJacksonsPreciseErrors() {
        assertTrue(badRequest(request("FP32", 3, "[1,2]")).contains("needs 3 elements but data has 2"));
        assertTrue(badRequest(request("FP32", 1, "[1,2]")).contains("needs 1 elements but data has 2"));
        assertTrue(badRequest(request("FP32", 2, "[1,\"x\"]")).contains("element 1 is the string \"x\""));
        assertTrue(badRequest(request("FP32", 2, "[1,null]")).contains("element 1 is null"));
        assertTrue(badRequest(request("FP32", 2, "[1,{}]")).contains("element 1 is an object"));
        for (String malformed : new String[] {"[1,,2]", "[,1,2]", "[1 2]", "[01,2]", "[1.,2]", "[.5,2]", "[-,2]",
                "[1e,2]", "[1,2,]", "[+1,2]", "[1,2", "[1,2}"}) {
            String m = badRequest(request("FP32", 2, malformed));
            assertTrue(malformed + ": " + m, m.startsWith("malformed JSON at line 1, column "));
        }
        String tooDeep = badRequest(request("FP32", 1, "[".repeat(3000) + "1" + "]".repeat(3000)));
        assertTrue(tooDeep, tooDeep.startsWith("malformed JSON") && tooDeep.contains("nesting depth"));
        String longNumber = badRequest(request("FP32", 1, "[1" + "0".repeat(20_000) + "]"));
        assertTrue(longNumber, longNumber.contains("Number value length"));
    }
}
