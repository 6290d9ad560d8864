package io.tollgate.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small client for the appliance's HTTP endpoint, as a factory device would call it. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String bearer;

    Http(int port) {
        this(port, null);
    }

    /** @param bearer sent as {@code Authorization: Bearer <bearer>} on every request (the billing API's token); null: none */
    Http(int port, String bearer) {
        this.base = "http://127.0.0.1:" + port;
        this.bearer = bearer;
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
        return bearer == null ? b : b.header("Authorization", "Bearer " + bearer);
    }

    /** A response: status and body. */
    record Response(int status, String body) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    /** The output named {@code name} of an infer answer (its datatype, shape, data), or null when it has none. */
    static JsonNode outputNode(JsonNode response, String name) {
        for (JsonNode o : response.path("outputs")) {
            if (name.equals(o.path("name").asText())) {
                return o;
            }
        }
        return null;
    }

    Response get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(request(path)
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body());
    }

    Response post(String path, String body) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(request(path)
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body());
    }

    /** Polls {@code path} until it answers {@code status}, or fails after {@code timeoutMs}. */
    Response await(String path, int status, long timeoutMs) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        Response last = null;
        Exception lastError = null;
        while (System.currentTimeMillis() < end) {
            try {
                last = get(path);
                if (last.status() == status) {
                    return last;
                }
            } catch (IOException e) {
                lastError = e;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("GET " + path + " did not answer " + status + " within " + timeoutMs + " ms; last: "
                + (last == null ? lastError : last.status() + " " + last.body()));
    }

    /**
     * Polls {@code /admin/plugins} until the plugin with {@code symbolicName} is in {@code state}; returns its entry,
     * or fails after {@code timeoutMs} with the last one seen.
     */
    JsonNode awaitPlugin(String symbolicName, String state, long timeoutMs) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        JsonNode last = null;
        while (System.currentTimeMillis() < end) {
            last = null;
            for (JsonNode plugin : get("/admin/plugins").json()) {
                if (symbolicName.equals(plugin.path("symbolic_name").asText())) {
                    last = plugin;
                }
            }
            if (last != null && state.equals(last.path("state").asText())) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("/admin/plugins did not report " + symbolicName + " " + state + " within " + timeoutMs
                + " ms; last: " + last);
    }

    /** An infer request body with one FP32 input. */
    static String inferBody(String input, long[] shape, float[] data) {
        StringBuilder b = new StringBuilder(data.length * 10 + 100);
        b.append("{\"id\":\"it\",\"inputs\":[{\"name\":\"").append(input).append("\",\"datatype\":\"FP32\",\"shape\":[");
        for (int i = 0; i < shape.length; i++) {
            b.append(i == 0 ? "" : ",").append(shape[i]);
        }
        b.append("],\"data\":[");
        for (int i = 0; i < data.length; i++) {
            b.append(i == 0 ? "" : ",").append(data[i]);
        }
        return b.append("]}]}").toString();
    }

    /** The flat FP32 data of output {@code name} in an infer response. */
    static float[] output(JsonNode response, String name) {
        for (JsonNode o : response.get("outputs")) {
            if (o.get("name").asText().equals(name)) {
                JsonNode data = o.get("data");
                float[] out = new float[data.size()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) data.get(i).asDouble();
                }
                return out;
            }
        }
        throw new AssertionError("no output '" + name + "' in " + response);
    }
}
