package io.tollgate.endpoint.internal;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.compression.DecompressionException;
import io.tollgate.endpoint.internal.AccessGuard.Access;
import io.tollgate.serving.InferenceService;
import io.tollgate.serving.ModelRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes each aggregated request to its route and writes the reply. Shared by every channel; keeps no
 * per-channel state. One request per connection is handled at a time: reading is paused (auto-read off, with a
 * {@code FlowControlHandler} in front holding any pipelined request) until the response is written, so
 * responses leave in request order and a slow inference holds back only its own connection.
 */
@ChannelHandler.Sharable
final class RequestRouter extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(RequestRouter.class);

    /** The routes this endpoint has, with what each needs ({@link AccessGuard}). */
    enum Route {
        SERVER_METADATA("GET", Access.INFER), HEALTH_LIVE("GET", Access.OPEN), HEALTH_READY("GET", Access.OPEN),
        MODEL_METADATA("GET", Access.INFER), MODEL_READY("GET", Access.INFER), MODEL_INFER("POST", Access.INFER),
        MODEL_CONFIG("GET", Access.INFER),

        MODEL_STATS("GET", Access.INFER),
        REPOSITORY_INDEX("POST", Access.ADMIN), REPOSITORY_LOAD("POST", Access.ADMIN),
        REPOSITORY_UNLOAD("POST", Access.ADMIN), ADMIN_PLUGINS("GET", Access.ADMIN),
        ADMIN_LICENSES("GET", Access.ADMIN), ADMIN_LICENSES_INSTALL("POST", Access.ADMIN),
        ADMIN_ACCELERATORS("GET", Access.ADMIN),
        METRICS("GET", Access.METRICS);

        final String method;
        final Access access;

        Route(String method, Access access) {
            this.method = method;
            this.access = access;
        }

        /** The Allow header: GET routes also answer HEAD. */
        String allow() {
            if (this == ADMIN_LICENSES || this == ADMIN_LICENSES_INSTALL) {
                return "GET, HEAD, POST";
            }
            return "GET".equals(method) ? "GET, HEAD" : method;
        }
    }

    /** A matched path. */
    record Match(Route route, String model, String version) {
    }

    private final MetadataRoutes metadata;
    private final StatsRoutes stats;
    private final InferRoute infer;
    private final ModelRegistry registry;
    private final EndpointMetrics metrics;
    private final AccessGuard guard;
    private final BodyBudget bodies;
    private final LicenseRoutes licenses = new LicenseRoutes();
    private final RepositoryRoutes repository = new RepositoryRoutes();
    private final AcceleratorRoutes accelerators = new AcceleratorRoutes();
    private final RequestIdGenerator requestIds = new RequestIdGenerator();
    private volatile boolean draining;

    RequestRouter(InferenceService service, ModelRegistry registry, EndpointMetrics metrics, String serverVersion,
                  AccessGuard guard, BodyBudget bodies, java.util.concurrent.Executor decoder) {
        super(FullHttpRequest.class, true); // the request is released when channelRead0 returns
        this.registry = registry;
        this.metrics = metrics;
        this.guard = guard;
        this.bodies = bodies;
        metrics.readiness().registry(registry);
        this.metadata = new MetadataRoutes(registry, serverVersion, metrics.readiness());
        metadata.accelerators(accelerators);
        this.infer = new InferRoute(service, registry, metrics, decoder);
        this.stats = new StatsRoutes(registry);
    }

    /** The per-tenant admission limits of infer requests (none until the endpoint sets them). */
    void tenantLimits(TenantLimits limits) {
        infer.tenantLimits(limits);
    }

    /** The request bodies held at once ({@code max.inflight.body.bytes}). */
    BodyBudget bodies() {
        return bodies;
    }

    AccessGuard guard() {
        return guard;
    }

    /** {@code /admin/licenses}: its services are bound by the endpoint component. */
    LicenseRoutes licenses() {
        return licenses;
    }

    /** {@code /admin/accelerators} and the accelerator series: its services are bound by the endpoint component. */
    AcceleratorRoutes accelerators() {
        return accelerators;
    }

    /** {@code /v2/repository/models/{m}/load|unload}: its service is bound by the endpoint component. */
    RepositoryRoutes repository() {
        return repository;
    }

    /** Makes the ids of requests that come without one; shared with the 413 answer of the body limit. */
    RequestIdGenerator requestIds() {
        return requestIds;
    }

    /** From now on every request is answered 503 and its connection closed. */
    void startDraining() {
        draining = true;
    }

    /** The route for a path, or null. Segments are already percent-decoded. */
    static Match match(List<String> s) {
        int n = s.size();
        if (n == 0) {
            return null;
        }
        if ("metrics".equals(s.get(0))) {
            return n == 1 ? new Match(Route.METRICS, null, null) : null;
        }
        if ("admin".equals(s.get(0))) {
            if (n == 2 && "accelerators".equals(s.get(1))) {
                return new Match(Route.ADMIN_ACCELERATORS, null, null);
            }
            if (n == 2 && "licenses".equals(s.get(1))) {
                return new Match(Route.ADMIN_LICENSES, null, null);     // POST: ADMIN_LICENSES_INSTALL (dispatch)
            }
            return n == 2 && "plugins".equals(s.get(1)) ? new Match(Route.ADMIN_PLUGINS, null, null) : null;
        }
        if (!"v2".equals(s.get(0))) {
            return null;
        }
        if (n == 1) {
            return new Match(Route.SERVER_METADATA, null, null);
        }
        switch (s.get(1)) {
            case "health":
                if (n == 3 && "live".equals(s.get(2))) {
                    return new Match(Route.HEALTH_LIVE, null, null);
                }
                if (n == 3 && "ready".equals(s.get(2))) {
                    return new Match(Route.HEALTH_READY, null, null);
                }
                return null;
            case "repository":
                if (n == 3 && "index".equals(s.get(2))) {
                    return new Match(Route.REPOSITORY_INDEX, null, null);
                }
                if (n == 5 && "models".equals(s.get(2)) && "load".equals(s.get(4))) {
                    return new Match(Route.REPOSITORY_LOAD, s.get(3), null);
                }
                if (n == 5 && "models".equals(s.get(2)) && "unload".equals(s.get(4))) {
                    return new Match(Route.REPOSITORY_UNLOAD, s.get(3), null);
                }
                return null;
            case "models":
                return modelRoute(s);
            default:
                return null;
        }
    }

    private static Match modelRoute(List<String> s) {
        int n = s.size();
        if (n < 3 || s.get(2).isEmpty()) {
            return null;
        }
        if (n == 3 && "stats".equals(s.get(2))) {
            // Triton's path for every model's statistics: it shadows the metadata of a model named "stats"
            return new Match(Route.MODEL_STATS, null, null);
        }
        String model = s.get(2);
        String version = null;
        int rest = 3;
        if (n >= 5 && "versions".equals(s.get(3))) {
            version = s.get(4);
            rest = 5;
        }
        if (n == rest) {
            return new Match(Route.MODEL_METADATA, model, version);
        }
        if (n == rest + 1 && "ready".equals(s.get(rest))) {
            return new Match(Route.MODEL_READY, model, version);
        }
        if (n == rest + 1 && "infer".equals(s.get(rest))) {
            return new Match(Route.MODEL_INFER, model, version);
        }
        if (n == rest + 1 && "config".equals(s.get(rest))) {
            return new Match(Route.MODEL_CONFIG, model, version);
        }
        if (n == rest + 1 && "stats".equals(s.get(rest))) {
            return new Match(Route.MODEL_STATS, model, version);
        }
        return null;
    }

    static List<String> segments(String path) {
        // indexOf instead of String.split: no array of parts per request (issue 11, request path)
        List<String> out = new ArrayList<>(6);
        int start = 0;
        int n = path.length();
        while (start <= n) {
            int slash = path.indexOf('/', start);
            int end = slash < 0 ? n : slash;
            if (end > start) {
                out.add(path.substring(start, end));
            }
            start = end + 1;
        }
        return out;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        // pause reading until this request is answered (see the class comment)
        ctx.channel().config().setAutoRead(false);
        metrics.requestStarted();
        // after a request the codec could not frame, the codec discards the rest of the connection: answer and close
        boolean keepAlive = HttpUtil.isKeepAlive(req) && !draining && req.decoderResult().isSuccess();
        // a request line the codec could not read leaves a made-up HTTP/1.0 version: answer as HTTP/1.1
        HttpVersion version = req.decoderResult().isSuccess() ? req.protocolVersion() : HttpVersion.HTTP_1_1;
        String path;
        try {
            path = new QueryStringDecoder(req.uri()).path();
        } catch (IllegalArgumentException e) {
            path = req.uri();
        }
        Exchange ex = new Exchange(req, req.method().name(), path, ctx.executor(), requestIds.next(),
                ctx.channel().remoteAddress(), ClientCertificate.sha256(ctx.channel()));
        CompletionStage<HttpReply> reply;
        try {
            reply = dispatch(ex);
        } catch (Throwable e) {
            // every request gets an answer (an Error from serving included: out of memory, deep recursion), so
            // the connection resumes reading and drain counts it finished
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((r, failure) -> {
            if (ctx.executor().inEventLoop()) {
                write(ctx, ex, r, failure, version, keepAlive);
            } else {
                ctx.executor().execute(() -> write(ctx, ex, r, failure, version, keepAlive));
            }
        });
    }

    private CompletionStage<HttpReply> dispatch(Exchange ex) throws RequestException {
        if (!ex.request.decoderResult().isSuccess()) {
            throw framingError(ex.request.decoderResult().cause());
        }
        if (draining) {
            throw new RequestException(RequestException.Kind.SHUTTING_DOWN,
                    "the endpoint is shutting down; retry against another instance or after the restart");
        }
        if (ex.request instanceof AccessPrecheck.Refused refused) {
            throw refused.refusal;   // refused from its headers, before its body was read
        }
        Match m = match(segments(ex.path));
        // who may ask comes first: an unknown path or a wrong method is answered only to a caller who may ask
        ex.caller = guard.check(m == null ? Access.ANY : m.route().access, m == null ? null : m.model(), ex.line(),
                ex.remote, ex.request.headers().get(HttpHeaderNames.AUTHORIZATION), ex.clientCertSha256);
        if (m == null) {
            throw RequestException.notFound("no route for " + ex.method + " " + ex.path);
        }
        String method = ex.method;
        if (m.route() == Route.ADMIN_LICENSES && "POST".equals(method)) {
            m = new Match(Route.ADMIN_LICENSES_INSTALL, null, null);
        }
        boolean allowed = m.route().method.equals(method) || ("HEAD".equals(method) && "GET".equals(m.route().method));
        if (!allowed) {
            throw RequestException.methodNotAllowed(method, ex.path, m.route().allow());
        }
        switch (m.route()) {
            case SERVER_METADATA:
                return done(metadata.server());
            case HEALTH_LIVE:
                return done(metadata.live());
            case HEALTH_READY:
                return done(metadata.ready());
            case MODEL_METADATA: {
                // a route-only model whose remote gave no valid metadata: 502 naming the route, never empty fields
                java.util.Optional<io.tollgate.serving.InferenceException> remote =
                        metadata.routeMetadataFailure(m.model());
                if (remote.isPresent()) {
                    return CompletableFuture.failedFuture(remote.get());
                }
                return done(metadata.model(m.model(), m.version()));
            }
            case MODEL_READY:
                return done(metadata.modelReady(m.model(), m.version()));
            case MODEL_INFER:
                return infer.infer(ex, m.model(), m.version());
            case MODEL_CONFIG:
                try {
                    return done(metadata.config(m.model(), m.version()));
                } catch (io.tollgate.serving.InferenceException e) {
                    return CompletableFuture.failedFuture(e);
                }

            case MODEL_STATS: {
                AccessGuard.Caller caller = ex.caller;
                return done(stats.stats(m.model(), m.version(), model -> guard.mayUse(caller, model)));
            }
            case REPOSITORY_INDEX:
                return done(metadata.repositoryIndex(ByteBufUtil.getBytes(ex.request.content()), repository.control()));
            case REPOSITORY_LOAD:
                return repository.load(m.model(), ByteBufUtil.getBytes(ex.request.content()), String.valueOf(ex.caller));
            case REPOSITORY_UNLOAD:
                return repository.unload(m.model(), ByteBufUtil.getBytes(ex.request.content()),
                        String.valueOf(ex.caller));
            case ADMIN_PLUGINS:
                return done(metadata.plugins());
            case ADMIN_LICENSES:
                return done(licenses.list());
            case ADMIN_ACCELERATORS:
                return done(accelerators.list());
            case ADMIN_LICENSES_INSTALL:
                return licenses.install(ByteBufUtil.getBytes(ex.request.content()), String.valueOf(ex.caller));
            case METRICS:
                return done(HttpReply.text(HttpResponseStatus.OK, HttpReply.PROMETHEUS_TEXT, metricsText()));
            default:
                throw new IllegalStateException("unrouted " + m.route());
        }
    }

    /** {@code /metrics}: the endpoint's series, then those of model statistics, tenant limits and the JVM. */
    private String metricsText() {
        List<io.tollgate.serving.ModelStatus> models = registry.models();
        StringBuilder out = new StringBuilder(metrics.render(models));
        StatsRoutes.renderMetrics(out, registry, models);
        infer.tenantLimits().render(out);
        EndpointMetrics.renderRoutes(out, registry.routes());
        accelerators.renderMetrics(out);
        ProcessMetrics.render(out);
        return out.toString();
    }

    /**
     * The answer to a request the HTTP codec could not frame: 414 for a request line over {@code max.line.bytes},
     * 431 for headers over {@code max.header.bytes}, else 400; the message never names a Netty class.
     */
    static RequestException framingError(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return new RequestException(RequestException.Kind.URI_TOO_LONG, "the request line is longer than "
                    + "max.line.bytes allows; shorten the path or query (or raise max.line.bytes in the "
                    + "io.tollgate.endpoint configuration)");
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return new RequestException(RequestException.Kind.HEADERS_TOO_LARGE, "the request headers are larger "
                    + "than max.header.bytes allows; send fewer or shorter headers (or raise max.header.bytes in the "
                    + "io.tollgate.endpoint configuration)");
        }
        String detail = cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage();
        return RequestException.badRequest("malformed HTTP request" + detail + "; the connection is closed");
    }

    private static CompletionStage<HttpReply> done(HttpReply reply) {
        return CompletableFuture.completedFuture(reply);
    }

    private void write(ChannelHandlerContext ctx, Exchange ex, HttpReply reply, Throwable failure, HttpVersion version,
                       boolean keepAliveRequested) {
        HttpReply r;
        Throwable refused = failure;
        try {
            r = failure == null ? reply : ErrorMapper.reply(failure, ex.requestId, ex.line());
        } catch (RuntimeException e) {
            refused = e;
            r = ErrorMapper.reply(e, ex.requestId, ex.line());
        }
        Throwable why = refused;
        boolean keepAlive = keepAliveRequested && !draining;
        FullHttpResponse response = toResponse(version, r);
        HttpUtil.setKeepAlive(response, keepAlive);
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, "close");   // said outright, HTTP/1.0 too
        }
        int status = r.status().code();
        metrics.response(status);
        bodies.answered(ctx.channel());   // the answer no longer needs the body
        ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
            metrics.requestFinished();
            if (!f.isSuccess()) {
                LOG.debug("cannot write the response to {} (request {}): {}", LogText.of(ex.line()),
                        LogText.of(ex.requestId), f.cause().toString());
                f.channel().close();
                return;
            }
            // One line per request, at DEBUG only: at INFO it would cost a log write per inference. Client text
            // (path, refused values quoted in the reason) goes through LogText: it must not forge log lines.
            if (LOG.isDebugEnabled()) {
                LOG.debug("{} (request {}) answered {} in {} ms{}", LogText.of(ex.line()), LogText.of(ex.requestId),
                        status, (System.nanoTime() - ex.startNanos) / 1000 / 1000.0,
                        why == null ? "" : ": " + LogText.of(ErrorMapper.reason(why)));
            }
            if (keepAlive) {
                f.channel().config().setAutoRead(true); // next request; the keep-alive handler closes otherwise
            }
        });
    }

    /** A Netty response for a reply, with Content-Type, Content-Length and the reply's headers. */
    static FullHttpResponse toResponse(HttpVersion version, HttpReply r) {
        FullHttpResponse response = new DefaultFullHttpResponse(version, r.status(), Unpooled.wrappedBuffer(r.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
        for (Map.Entry<String, String> h : r.headers().entrySet()) {
            response.headers().set(h.getKey(), h.getValue());
        }
        return response;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable inflate = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (inflate instanceof DecompressionException && ctx.channel().isActive()) {
            // a gzip/deflate body that cannot be inflated, or inflates past the limit: the client's mistake
            String message = inflate.getMessage() != null && inflate.getMessage().contains("maximum size")
                    ? "the request body inflates to more than max.body.bytes allows; send a smaller request"
                    : "the request body cannot be decompressed as its Content-Encoding says ("
                            + inflate.getMessage() + ")";
            RequestException.Kind kind = message.startsWith("the request body inflates")
                    ? RequestException.Kind.BODY_TOO_LARGE : RequestException.Kind.BAD_REQUEST;
            HttpReply reply = ErrorMapper.reply(new RequestException(kind, message + "; the connection is closed"),
                    requestIds.next(), "request from " + ctx.channel().remoteAddress());
            metrics.response(reply.status().code());
            FullHttpResponse response = toResponse(HttpVersion.HTTP_1_1, reply);
            HttpUtil.setKeepAlive(response, false);
            LOG.debug("closing connection {} after: {}", ctx.channel().remoteAddress(), LogText.of(message));
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        LOG.debug("closing connection {} after: {}", ctx.channel().remoteAddress(), LogText.of(cause));
        ctx.close();
    }
}
