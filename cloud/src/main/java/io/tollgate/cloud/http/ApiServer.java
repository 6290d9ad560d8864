package io.tollgate.cloud.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.tollgate.cloud.auth.ApiTokenGate;
import io.tollgate.cloud.auth.MqttPasswords;
import io.tollgate.cloud.billing.Invoice;
import io.tollgate.cloud.billing.InvoiceCalculator;
import io.tollgate.cloud.billing.Period;
import io.tollgate.cloud.billing.UsageExport;
import io.tollgate.cloud.ledger.DeviceInfo;
import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.Licenses;
import io.tollgate.cloud.ledger.LedgerException;
import io.tollgate.cloud.ledger.QuarantineEntry;
import io.tollgate.cloud.ledger.StoredUsage;
import io.tollgate.cloud.ledger.UsageFilter;
import io.tollgate.cloud.mqtt.UsageConsumer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The billing HTTP API (JDK HttpServer, a small pool of handler threads that do blocking JDBC). JSON in and out;
 * errors are {@code {"error": "..."}} with 400 (bad parameter), 401 (no or unknown bearer token), 403 (the token's
 * role or tenant does not allow it), 404, 405, 409 (conflict) or 503 (ledger down, token file unreadable).
 * Everything but {@code /health} needs {@code Authorization: Bearer <token>} ({@link ApiAccess}, docs/billing.md).
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final int DEFAULT_LIMIT = 10_000;
    /** Handler threads: requests are blocking JDBC, and a client that is slow to send its request holds one. */
    static final int THREADS = 16;
    /**
     * The JDK HttpServer's limit (seconds) on receiving a request, headers included; past it the connection is closed
     * and its thread freed. Read once, when {@code sun.net.httpserver.ServerConfig} loads (the first HttpServer).
     */
    public static final String MAX_REQ_TIME_PROPERTY = "sun.net.httpserver.maxReqTime";
    static final String DEFAULT_MAX_REQ_TIME_SECONDS = "20";

    private final HttpServer server;
    private final ExecutorService pool;
    private final Ledger ledger;
    private final InvoiceCalculator invoices;
    private final Supplier<UsageConsumer> consumer;
    private final ApiTokenGate tokens;
    private final Path dataDir;
    private final String cloudPublicKeyPem;

    /**
     * @param tokens            the API tokens every request but {@code /health} is checked against
     * @param dataDir           where registration stores the devices' broker password hashes ({@code auth/mqtt-passwd})
     * @param cloudPublicKeyPem the cloud's ack key (SPKI PEM), returned by device registration so that the device
     *                          pins it (contract C1; CloudKey, C7)
     */
    public ApiServer(String host, int port, Ledger ledger, Supplier<UsageConsumer> consumer, ApiTokenGate tokens,
                     Path dataDir, String cloudPublicKeyPem) throws IOException {
        this(host, port, ledger, consumer, tokens, dataDir, null, cloudPublicKeyPem);
    }

    /** @param tls the HTTPS context ({@link ApiTls}), or null for plain HTTP */
    public ApiServer(String host, int port, Ledger ledger, Supplier<UsageConsumer> consumer, ApiTokenGate tokens,
                     Path dataDir, SSLContext tls, String cloudPublicKeyPem) throws IOException {
        this.ledger = ledger;
        this.tokens = tokens;
        this.dataDir = dataDir;
        this.cloudPublicKeyPem = cloudPublicKeyPem;
        this.invoices = new InvoiceCalculator(ledger);
        this.consumer = consumer;
        requestTimeLimitDefault();
        if (tls == null) {
            this.server = HttpServer.create(new InetSocketAddress(host, port), 64);
        } else {
            HttpsServer https = HttpsServer.create(new InetSocketAddress(host, port), 64);
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
            this.server = https;
        }
        this.pool = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "tollgate-billing-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        server.start();
    }

    /**
     * Sets {@link #MAX_REQ_TIME_PROPERTY} to 20 s unless the user set it (-D in TOLLGATE_BILLING_JAVA_OPTS): without
     * it, a connection that never finishes its headers holds a handler thread forever, and {@link #THREADS} of them
     * freeze the API (slowloris). Takes effect only before the JVM's first HttpServer; {@code Main} calls it first.
     */
    public static void requestTimeLimitDefault() {
        if (System.getProperty(MAX_REQ_TIME_PROPERTY) == null) {
            System.setProperty(MAX_REQ_TIME_PROPERTY, DEFAULT_MAX_REQ_TIME_SECONDS);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** A request that cannot be answered; becomes {"error": message} with the status. */
    static final class ApiError extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        ApiError(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            try {
                route(ex);
            } catch (ApiError e) {
                if (e.status == 401) {
                    ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"tollgate-billing\"");
                }
                if (e.status == 400) {
                    badRequest(ex, e.getMessage());
                }
                sendJson(ex, e.status, error(e.getMessage()));
            } catch (LedgerException e) {
                int status = switch (e.reason()) {
                    case BAD_INPUT -> 400;
                    case NOT_FOUND -> 404;
                    case CONFLICT -> 409;
                    default -> 503;
                };
                sendJson(ex, status, error(e.getMessage()));
            } catch (IllegalArgumentException e) {
                badRequest(ex, e.getMessage());
                sendJson(ex, 400, error(e.getMessage()));
            } catch (IOException | UncheckedIOException e) {
                LOG.debug("Client went away: {}", e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("Unexpected error answering {} {}", ex.getRequestMethod(), ex.getRequestURI(), e);
                sendJson(ex, 500, error("internal error: " + e));
            }
        }
    }

    /** A client's mistake: one WARN line naming the request (its query only, never a header), then a 400. */
    private static void badRequest(HttpExchange ex, String why) {
        LOG.warn("400 for {} {}: {}", ex.getRequestMethod(), ex.getRequestURI().getPath(), why);
    }

    private void route(HttpExchange ex) throws ApiError, LedgerException, IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        Map<String, String> q = query(ex.getRequestURI().getRawQuery());
        if ("/health".equals(path)) {
            health(ex, requireGet(method));
            return;
        }
        ApiAccess access = ApiAccess.of(tokens.check(ex.getRequestHeaders().getFirst("Authorization")), method, path);
        switch (path) {
            case "/v1/usage" -> usage(ex, access.tenantScoped(q), requireGet(method));
            case "/v1/invoices" -> {
                requireGet(method);
                sendJson(ex, 200, UsageExport.invoiceJson(invoice(access.tenantScoped(q))));
            }
            case "/v1/invoices.csv" -> {
                requireGet(method);
                send(ex, 200, "text/csv; charset=utf-8", UsageExport.invoiceCsv(invoice(access.tenantScoped(q)))
                        .getBytes(StandardCharsets.UTF_8));
            }
            case "/v1/export/cloudevents" -> cloudEvents(ex, access.tenantScoped(q), requireGet(method));
            case "/v1/devices" -> {
                if ("POST".equals(method)) {
                    registerDevice(ex, access);
                } else {
                    requireGet(method);
                    access.requireAllTenants("the device list");
                    devices(ex);
                }
            }
            case "/v1/licenses" -> {
                if ("POST".equals(method)) {
                    importLicense(ex, q, access);
                } else {
                    licenses(ex, access.tenantScoped(q), requireGet(method));
                }
            }
            case "/v1/licenses/push" -> pushLicense(ex, requirePost(method), access);
            case "/v1/quarantine" -> {
                access.requireAllTenants("the quarantine");
                quarantine(ex, q, requireGet(method));
            }
            default -> throw new ApiError(404, "no resource " + path + "; try /v1/usage, /v1/invoices, "
                    + "/v1/invoices.csv, /v1/export/cloudevents, /v1/devices, /v1/licenses, /v1/licenses/push, /v1/quarantine or "
                    + "/health");
        }
    }

    private static boolean requirePost(String method) throws ApiError {
        if (!"POST".equals(method)) {
            throw new ApiError(405, method + " is not allowed here; use POST");
        }
        return true;
    }

    /**
     * {@code POST /v1/licenses[?device=D,...]} (admin): the body is a license file (at most 64 KiB), imported as
     * {@code license import} without {@code --vendor} does (the API has no vendor keys: the caller vouches); a bound
     * license is queued for its device, an unbound one for the devices named in {@code device}. 201 for a new
     * license, 200 for the same file again; 400 for a file that is not a license, 409 for another file under a known
     * id, 404 for an unknown device.
     */
    private void importLicense(HttpExchange ex, Map<String, String> q, ApiAccess access) throws ApiError,
            LedgerException, IOException {
        byte[] file = ex.getRequestBody().readNBytes(Licenses.MAX_FILE_BYTES + 1);
        if (file.length > Licenses.MAX_FILE_BYTES) {
            throw new ApiError(413, "the license file is larger than " + Licenses.MAX_FILE_BYTES + " bytes");
        }
        io.tollgate.cloud.licenses.LicenseFile.Parsed p;
        try {
            p = io.tollgate.cloud.licenses.LicenseFile.license(file, null);
        } catch (IllegalArgumentException e) {
            throw new ApiError(400, "the body is not a license file (docs/licensing.md): " + e.getMessage());
        }
        Licenses licenses = new Licenses(ledger.database());
        Licenses.Imported r = licenses.importLicense(p.license(), false, file);
        ObjectNode o = JSON.createObjectNode();
        o.put("license_id", p.license().id());
        o.put("imported", r == Licenses.Imported.NEW ? "new" : "unchanged");
        o.put("vendor_verified", false);
        ArrayNode queued = o.putArray("queued_for");
        if (p.license().bound() && r == Licenses.Imported.NEW) {
            queued.add(p.license().deviceId());
        }
        for (String d : devicesParam(q)) {
            licenses.push(p.license().id(), d);
            queued.add(d);
        }
        LOG.info("Imported license {} ({}) over the API ({}); queued for {}", p.license().id(), o.get("imported")
                .asText(), access.token().describe(), queued);
        sendJson(ex, r == Licenses.Imported.NEW ? 201 : 200, o);
    }

    /** {@code POST /v1/licenses/push?license=ID&device=D,...} (admin): {@code license push}. 202; 404 / 409. */
    private void pushLicense(HttpExchange ex, boolean post, ApiAccess access) throws ApiError, LedgerException,
            IOException {
        Map<String, String> q = query(ex.getRequestURI().getRawQuery());
        String id = q.get("license");
        List<String> devices = devicesParam(q);
        if (id == null || id.isEmpty() || devices.isEmpty()) {
            throw new ApiError(400, "give license and device, e.g. ?license=LICENSE-ID&device=tg-06e3fd8fda29bb60");
        }
        Licenses licenses = new Licenses(ledger.database());
        for (String d : devices) {
            licenses.push(id, d);
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("license_id", id);
        ArrayNode queued = o.putArray("queued_for");
        devices.forEach(queued::add);
        LOG.info("Queued license {} for {} over the API ({})", id, devices, access.token().describe());
        sendJson(ex, 202, o);
    }

    private static List<String> devicesParam(Map<String, String> q) {
        String d = q.get("device");
        return d == null || d.isBlank() ? List.of() : List.of(d.split(","));
    }

    private static boolean requireGet(String method) throws ApiError {
        if (!"GET".equals(method)) {
            throw new ApiError(405, method + " is not allowed here; use GET");
        }
        return true;
    }

    private void health(HttpExchange ex, boolean get) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        boolean dbUp;
        try (var c = ledger.database().connect(); var st = c.createStatement()) {
            st.execute("SELECT 1");
            dbUp = true;
        } catch (Exception e) {
            dbUp = false;
            o.put("database_error", e.getMessage());
        }
        UsageConsumer mqtt = consumer.get();
        o.put("status", dbUp ? "UP" : "DOWN");
        o.put("database", ledger.database().dialect().name().toLowerCase(java.util.Locale.ROOT));
        o.put("mqtt", mqtt == null ? "disabled" : mqtt.connected() ? "connected" : "disconnected");
        if (mqtt != null) {
            UsageConsumer.Stats s = mqtt.stats();
            ObjectNode st = o.putObject("counters");
            st.put("batches", s.batches.get());
            st.put("stored", s.stored.get());
            st.put("duplicates", s.duplicates.get());
            st.put("quarantined", s.quarantined.get());
            st.put("acks", s.acks.get());
            st.put("resends", s.resends.get());
            st.put("db_retries", s.dbRetries.get());
            st.put("salvaged_batches", s.salvaged.get());
            st.put("poison_batches", s.poisonBatches.get());
            st.put("mqtt_connects", s.connects.get());
            st.put("license_pushes", s.licensePushes.get());
        }
        sendJson(ex, dbUp ? 200 : 503, o);
    }

    private void usage(HttpExchange ex, Map<String, String> q, boolean get) throws ApiError, LedgerException, IOException {
        UsageFilter f = filter(q);
        int limit = intParam(q, "limit", DEFAULT_LIMIT);
        ObjectNode o = JSON.createObjectNode();
        ArrayNode records = o.putArray("records");
        for (StoredUsage u : ledger.usage(f, limit)) {
            records.add(UsageExport.usageJson(u));
        }
        ArrayNode totals = o.putArray("totals");
        for (Ledger.Total t : ledger.totals(f)) {
            ObjectNode n = totals.addObject();
            n.put("tenant", t.tenant());
            n.put("model", t.model());
            n.put("meter", t.meter());
            n.put("requests", t.requests());
            n.put("quantity", t.quantity());
        }
        ArrayNode ranges = o.putArray("ranges");
        for (Ledger.Range r : ledger.ranges(f)) {
            UsageExport.rangeJson(ranges.addObject(), r);
        }
        o.put("truncated", records.size() == limit);
        sendJson(ex, 200, o);
    }

    private Invoice invoice(Map<String, String> q) throws ApiError, LedgerException {
        String tenant = q.get("tenant");
        String period = q.get("period");
        if (tenant == null || period == null) {
            throw new ApiError(400, "give tenant and period, e.g. ?tenant=acme&period=2026-11");
        }
        return invoices.invoice(tenant, Period.parse(period));
    }

    private void cloudEvents(HttpExchange ex, Map<String, String> q, boolean get) throws ApiError, LedgerException, IOException {
        UsageFilter f = filter(q);
        ex.getResponseHeaders().set("Content-Type", "application/x-ndjson; charset=utf-8");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        ledger.forEachUsage(f, u -> {
            try {
                out.write((UsageExport.cloudEvent(u) + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        out.close();
    }

    /** {@code GET /v1/licenses[?tenant=T]}: the known licenses and their deliveries (docs/billing.md). */
    private void licenses(HttpExchange ex, Map<String, String> q, boolean get) throws ApiError, LedgerException,
            IOException {
        String tenant = q.get("tenant");
        if (tenant != null && !Ledger.TENANT.matcher(tenant).matches()) {
            throw new ApiError(400, "tenant " + tenant + " is not a tenant name: 1 to 63 of a-z 0-9 . _ - starting "
                    + "with a letter or digit");
        }
        ObjectNode o = JSON.createObjectNode();
        ArrayNode list = o.putArray("licenses");
        for (Licenses.LicenseRow r : new Licenses(ledger.database()).list(tenant)) {
            ObjectNode n = list.addObject();
            n.put("license_id", r.licenseId());
            n.put("vendor", r.vendor());
            n.put("vendor_key", r.vendorKey());
            n.put("vendor_verified", r.vendorVerified());
            n.put("tenant", r.tenant());
            n.put("device_id", r.deviceId());
            n.put("plugin", r.plugin());
            n.put("versions", r.versions());
            n.put("not_before", r.notBefore().toString());
            n.put("expires", r.expires() == null ? null : r.expires().toString());
            n.put("meter", r.meter());
            if (r.quota() == null) {
                n.putNull("quota");
            } else {
                n.put("quota", r.quota());
            }
            n.put("file_sha256", r.fileHash());
            n.put("imported_at", r.importedAt().toInstant().toString());
            ArrayNode pushes = n.putArray("deliveries");
            for (Licenses.Push p : r.pushes()) {
                ObjectNode d = pushes.addObject();
                d.put("device_id", p.deviceId());
                d.put("requested_at", p.requestedAt().toInstant().toString());
                d.put("pushed_at", p.pushedAt() == null ? null : p.pushedAt().toInstant().toString());
                d.put("attempts", p.attempts());
            }
        }
        sendJson(ex, 200, o);
    }

    private void devices(HttpExchange ex) throws ApiError, LedgerException, IOException {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode list = o.putArray("devices");
        for (DeviceInfo d : ledger.devices()) {
            ObjectNode n = list.addObject();
            n.put("id", d.id());
            n.put("public_key_pem", d.publicKeyPem());
            n.put("registered_at", d.registeredAt().toInstant().toString());
            n.put("acked_seq", d.headSeq());
            n.put("head_hash", d.headHash());
            n.put("sealed_seq", d.sealedSeq());
            ArrayNode tenants = n.putArray("tenants");
            d.tenants().forEach(tenants::add);
            if (d.brokenAtSeq() > 0) {
                n.put("broken_at_seq", d.brokenAtSeq());
                n.put("broken_reason", d.brokenReason());
            }
            n.put("cloned", d.cloned());
            if (d.cloned()) {
                // issue 8: two chains signed with this device's key; only the one the ledger holds is billed
                n.put("cloned_at", d.clonedAt().toInstant().toString());
                n.put("cloned_reason", d.clonedReason());
            }
        }
        sendJson(ex, 200, o);
    }

    private void registerDevice(HttpExchange ex, ApiAccess access) throws ApiError, LedgerException, IOException {
        JsonNode body;
        try {
            body = JSON.readTree(ex.getRequestBody());
        } catch (IOException e) {
            throw new ApiError(400, "the body is not JSON: send {\"id\": \"tg-…\", \"public_key_pem\": \"-----BEGIN "
                    + "PUBLIC KEY-----…\", \"tenants\": [\"acme\"]}");
        }
        if (body == null || !body.path("id").isTextual() || !body.path("public_key_pem").isTextual()) {
            throw new ApiError(400, "send {\"id\": \"tg-…\", \"public_key_pem\": \"-----BEGIN PUBLIC KEY-----…\", "
                    + "\"tenants\": [\"acme\"]}");
        }
        Set<String> tenants = new TreeSet<>();
        JsonNode t = body.path("tenants");
        if (!t.isMissingNode() && !t.isNull()) {
            if (!t.isArray() || t.isEmpty()) {
                throw new ApiError(400, "\"tenants\" must be a non-empty array of tenant names, e.g. [\"acme\"] "
                        + "(leave it out for [\"default\"])");
            }
            for (JsonNode n : t) {
                if (!n.isTextual()) {
                    throw new ApiError(400, "\"tenants\" holds " + n + ", not a tenant name (a string)");
                }
                tenants.add(n.asText());
            }
        }
        String id = body.get("id").asText();
        access.checkRegistration(id, body.get("tenants"), ledger);
        boolean created = ledger.registerDevice(id, body.get("public_key_pem").asText(), tenants);
        DeviceInfo d = ledger.device(id).orElseThrow();
        ObjectNode o = JSON.createObjectNode();
        o.put("id", id);
        o.put("registered", true);
        ArrayNode bound = o.putArray("tenants");
        d.tenants().forEach(bound::add);
        o.put("cloud_public_key_pem", cloudPublicKeyPem);
        // a new broker password at every registration: re-registering (admin only) is how a lost one is replaced
        if (MqttPasswords.usable(id)) {
            ObjectNode mqtt = o.putObject("mqtt");
            mqtt.put("username", id);
            mqtt.put("password", MqttPasswords.issue(dataDir, id));
            LOG.info("Registered device {} ({}); issued its broker password", id, access.token().describe());
        } else {
            LOG.warn("Registered device {} ({}) without a broker password: mosquitto's password file cannot hold a "
                    + "username with ':'", id, access.token().describe());
        }
        sendJson(ex, created ? 201 : 200, o);
    }

    private void quarantine(HttpExchange ex, Map<String, String> q, boolean get) throws ApiError, LedgerException, IOException {
        String device = q.get("device");
        ObjectNode o = JSON.createObjectNode();
        o.put("count", ledger.quarantineCount(device));
        ArrayNode list = o.putArray("entries");
        for (QuarantineEntry e : ledger.quarantine(device, intParam(q, "limit", 1000))) {
            ObjectNode n = list.addObject();
            n.put("id", e.id());
            n.put("device", e.deviceId());
            if (e.seq() == null) {
                n.putNull("seq");
            } else {
                n.put("seq", e.seq());
            }
            n.put("reason", e.reason());
            n.put("hash", e.hash());
            n.put("bytes", e.size());
            n.put("received_at", e.receivedAt().toInstant().toString());
        }
        ArrayNode batches = o.putArray("batches");
        for (Ledger.QuarantinedBatch b : ledger.quarantinedBatches(device, intParam(q, "limit", 1000))) {
            ObjectNode n = batches.addObject();
            n.put("id", b.id());
            n.put("device", b.deviceId());
            if (b.firstSeq() == null) {
                n.putNull("first_seq");
            } else {
                n.put("first_seq", b.firstSeq());
            }
            if (b.records() == null) {
                n.putNull("records");
            } else {
                n.put("records", b.records());
            }
            n.put("reason", b.reason());
            n.put("hash", b.hash());
            n.put("bytes", b.size());
            n.put("received_at", b.receivedAt().toInstant().toString());
            n.put("times_seen", b.timesSeen());
        }
        sendJson(ex, 200, o);
    }

    static UsageFilter filter(Map<String, String> q) throws ApiError {
        Long from = time(q.get("from"), "from");
        Long to = time(q.get("to"), "to");
        if (q.containsKey("period")) {
            Period p = Period.parse(q.get("period"));
            from = from == null ? p.startNanos() : Math.max(from, p.startNanos());
            to = to == null ? p.endNanos() : Math.min(to, p.endNanos());
        }
        return new UsageFilter(q.get("device"), q.get("tenant"), q.get("model"), from, to);
    }

    static Long time(String text, String name) throws ApiError {
        if (text == null) {
            return null;
        }
        Instant t;
        try {
            t = Instant.parse(text);
        } catch (DateTimeParseException e) {
            try {
                t = LocalDate.parse(text).atStartOfDay().toInstant(ZoneOffset.UTC);
            } catch (java.time.DateTimeException e2) {
                throw new ApiError(400, name + "='" + text + "' is not an ISO-8601 instant (2026-11-01T00:00:00Z) "
                        + "or date (2026-11-01)");
            }
        }
        try {
            return Period.nanos(t);
        } catch (ArithmeticException e) {
            // parsed, but record times are nanoseconds since 1970 in a signed 64-bit integer
            throw new ApiError(400, name + "='" + text + "' is out of range: give a time from "
                    + Period.instant(Long.MIN_VALUE) + " to " + Period.instant(Long.MAX_VALUE));
        }
    }

    private static int intParam(Map<String, String> q, String name, int dflt) throws ApiError {
        String v = q.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ApiError(400, name + "='" + v + "' is not a non-negative integer");
        }
    }

    static Map<String, String> query(String raw) {
        Map<String, String> out = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(k, v);
        }
        return out;
    }

    private static ObjectNode error(String message) {
        ObjectNode o = JSON.createObjectNode();
        o.put("error", message);
        return o;
    }

    private static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, "application/json", JSON.writeValueAsBytes(body));
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(1);
        pool.shutdownNow();
    }
}
