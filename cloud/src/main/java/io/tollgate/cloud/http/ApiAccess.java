package io.tollgate.cloud.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.cloud.auth.ApiRole;
import io.tollgate.cloud.auth.ApiToken;
import io.tollgate.cloud.auth.ApiTokenGate;
import io.tollgate.cloud.http.ApiServer.ApiError;
import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.LedgerException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the bearer token of one request may do (docs/billing.md, "API tokens"): the one place that turns a token's
 * role and tenant into 401, 403 or a narrowed query. admin: everything; reader: GET only, and with a tenant only that
 * tenant's usage, invoices and exports; enroll: only {@code POST /v1/devices} of new device ids within its tenant.
 */
final class ApiAccess {
    private static final Logger LOG = LoggerFactory.getLogger(ApiAccess.class);

    private final ApiToken token;
    private final String request;

    private ApiAccess(ApiToken token, String request) {
        this.token = token;
        this.request = request;
    }

    /** Authenticates the request and applies the role's method/path rule; throws 401, 403 or 503. */
    static ApiAccess of(ApiTokenGate.Check check, String method, String path) throws ApiError {
        String request = method + " " + path;
        switch (check.outcome()) {
            case OK -> {
            }
            case UNAVAILABLE -> throw new ApiError(503, check.detail());
            default -> {
                LOG.info("Refused {}: 401, {}", request, check.detail());
                throw new ApiError(401, check.detail());
            }
        }
        ApiAccess access = new ApiAccess(check.token(), request);
        ApiToken t = check.token();
        if (t.role() == ApiRole.READER && !"GET".equals(method)) {
            throw access.forbidden("a reader token may only GET; " + request + " needs an admin token");
        }
        if (t.role() == ApiRole.ENROLL && !("POST".equals(method) && "/v1/devices".equals(path))) {
            throw access.forbidden("an enroll token may only POST /v1/devices; " + request + " needs a reader or "
                    + "admin token");
        }
        return access;
    }

    ApiToken token() {
        return token;
    }

    /**
     * The query narrowed to the token's tenant: a tenant-limited token sees its tenant when none is asked for, and
     * gets 403 when another one is.
     */
    Map<String, String> tenantScoped(Map<String, String> q) throws ApiError {
        if (token.tenant() == null) {
            return q;
        }
        String asked = q.get("tenant");
        if (asked != null && !asked.equals(token.tenant())) {
            throw forbidden("this token may only read tenant " + token.tenant() + ", not " + asked);
        }
        Map<String, String> narrowed = new HashMap<>(q);
        narrowed.put("tenant", token.tenant());
        return narrowed;
    }

    /** 403 for a tenant-limited token: {@code what} spans every tenant. */
    void requireAllTenants(String what) throws ApiError {
        if (token.tenant() != null) {
            throw forbidden(what + " spans every tenant; this token may only read tenant " + token.tenant()
                    + " (use /v1/usage, /v1/invoices, /v1/export/cloudevents, or a token without --tenant)");
        }
    }

    /**
     * An enroll token registers only ids not registered yet, and only into its own tenant when it has one
     * ({@code tenants} absent means ["default"], docs/billing.md). admin may do anything.
     */
    void checkRegistration(String id, JsonNode tenants, Ledger ledger) throws ApiError, LedgerException {
        if (token.role() != ApiRole.ENROLL) {
            return;
        }
        if (token.tenant() != null) {
            List<String> asked = new ArrayList<>();
            if (tenants == null || tenants.isNull()) {
                asked.add("default");
            } else if (tenants.isArray()) {
                tenants.forEach(n -> asked.add(n.asText()));
            }
            for (String t : asked) {
                if (!t.equals(token.tenant())) {
                    throw forbidden("this enroll token may only register devices of tenant " + token.tenant()
                            + ", not " + t + (tenants == null ? " (no \"tenants\" means [\"default\"])" : ""));
                }
            }
        }
        if (ledger.device(id).isPresent()) {
            throw forbidden("device " + id + " is already registered; an enroll token registers new devices only "
                    + "(re-registering needs an admin token)");
        }
    }

    private ApiError forbidden(String message) {
        LOG.info("Refused {}: 403 for {}: {}", request, token.describe(), message);
        return new ApiError(403, message);
    }
}
