package dev.diffuse.server;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.Images;
import dev.diffuse.pipeline.QueueFullException;
import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.pipeline.SampleResult;
import dev.diffuse.runtime.MemoryBudgetException;
import io.helidon.common.media.type.MediaType;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code POST /v1/samples}: parse, check the server's limits, resolve against the model, submit, wait at most the
 * request timeout (then cancel), answer. The mapping from failures to answers:
 * <pre>
 *   IllegalArgumentException (bad JSON, field, value, sampler for this model)    400
 *   n over the server's limit, MemoryBudgetException (over the memory budget)    413
 *   QueueFullException                                                           429 + Retry-After
 *   timeout (request cancelled), pipeline closed (shutting down)                 503 + Retry-After
 *   a PNG asked of samples that are not images                                   406
 *   anything else                                                                500, one line, logged
 * </pre>
 */
final class SamplesHandler {
    static final MediaType PNG = MediaTypes.create("image/png");

    private final DiffusionPipeline pipeline;
    private final ServerConfig config;
    private final ServerMetrics metrics;

    SamplesHandler(DiffusionPipeline pipeline, ServerConfig config, ServerMetrics metrics) {
        this.pipeline = pipeline;
        this.config = config;
        this.metrics = metrics;
    }

    void handle(ServerRequest req, ServerResponse res) {
        long retry = config.retryAfter().toSeconds();
        try {
            boolean png = req.headers().bestAccepted(MediaTypes.APPLICATION_JSON, PNG).map(PNG::equals).orElse(false);
            byte[] body = req.content().as(byte[].class);
            if (body.length > config.maxBodyBytes())
                throw new TooLarge("the request body has " + body.length + " bytes, over this server's limit of "
                        + config.maxBodyBytes() + "; a sample request is a small JSON object");
            SampleRequest asked = RequestJson.parse(body);
            if (asked.n() > config.maxImages())
                throw new TooLarge("n = " + asked.n() + " is over this server's limit of " + config.maxImages()
                        + " images per request; ask for fewer and send several requests");
            SampleRequest r = pipeline.resolve(asked);
            if (r.steps() > config.maxSteps())
                throw new IllegalArgumentException("steps must be at most " + config.maxSteps() + " on this server, got " + r.steps());
            if (png && !pipeline.info().isImageModel())
                throw new NotAcceptable("this model's samples are vectors of shape " + java.util.Arrays.toString(pipeline.info().sampleShape())
                        + ", not images; ask for application/json");
            SampleResult result = await(pipeline.submit(r));
            metrics.answered(ServerMetrics.Answer.OK);
            if (png) sendPng(res, result);
            else Answer.json(res, Status.OK_200, document(result));
        } catch (TooLarge e) {
            refuse(res, ServerMetrics.Answer.TOO_LARGE, Status.REQUEST_ENTITY_TOO_LARGE_413, e.getMessage(), retry);
        } catch (NotAcceptable e) {
            refuse(res, ServerMetrics.Answer.BAD_REQUEST, Status.NOT_ACCEPTABLE_406, e.getMessage(), retry);
        } catch (IllegalArgumentException e) {
            refuse(res, ServerMetrics.Answer.BAD_REQUEST, Status.BAD_REQUEST_400, e.getMessage(), retry);
        } catch (MemoryBudgetException e) {
            refuse(res, ServerMetrics.Answer.TOO_LARGE, Status.REQUEST_ENTITY_TOO_LARGE_413, e.getMessage(), retry);
        } catch (QueueFullException e) {
            refuse(res, ServerMetrics.Answer.QUEUE_FULL, Status.TOO_MANY_REQUESTS_429, e.getMessage(), retry);
        } catch (TimedOut e) {
            refuse(res, ServerMetrics.Answer.TIMEOUT, Status.SERVICE_UNAVAILABLE_503, e.getMessage(), retry);
        } catch (IllegalStateException e) {
            // the pipeline was closed (shutting down) or the request was cancelled with it
            refuse(res, ServerMetrics.Answer.UNAVAILABLE, Status.SERVICE_UNAVAILABLE_503, "unavailable: " + e.getMessage(), retry);
        } catch (RuntimeException e) {
            System.err.println("diffuse serve: request failed: " + e);
            refuse(res, ServerMetrics.Answer.FAILED, Status.INTERNAL_SERVER_ERROR_500, "sampling failed: " + e.getMessage(), 0);
        }
    }

    private void refuse(ServerResponse res, ServerMetrics.Answer a, Status status, String message, long retry) {
        metrics.answered(a);
        Answer.error(res, status, message, retry);
    }

    /** The result within the timeout; past it the request is cancelled (it stops between network evaluations). */
    private SampleResult await(Future<SampleResult> f) {
        long timeout = config.requestTimeout().toMillis();
        try {
            return f.get(timeout, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new TimedOut("timed out after " + timeout / 1000.0 + " s (waiting and sampling) and was cancelled; the server is busy, retry later");
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new CancellationException("the server is stopping");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(String.valueOf(e.getCause()), e.getCause());
        }
    }

    private static void sendPng(ServerResponse res, SampleResult r) {
        SampleRequest q = r.request();
        res.header("X-Diffuse-Seed", Long.toString(q.seed()));
        res.header("X-Diffuse-Sampler", q.sampler());
        res.header("X-Diffuse-Steps", Integer.toString(q.steps()));
        res.header("X-Diffuse-Images", Integer.toString(r.images().count()));
        res.header("X-Diffuse-Non-Finite", Integer.toString(r.nonFiniteImages()));
        res.headers().contentType(PNG);
        res.status(Status.OK_200);
        res.send(r.images().gridPng());
    }

    /** The JSON answer: the resolved request, shape, counts, timings, and one base64 PNG per image (or the raw values of vector samples). */
    static Map<String, Object> document(SampleResult r) {
        SampleRequest q = r.request();
        Images im = r.images();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("n", q.n());
        d.put("seed", q.seed());
        d.put("sampler", q.sampler());
        d.put("steps", q.steps());
        d.put("classLabel", q.classLabel());
        d.put("guidance", q.guidance());
        d.put("eta", q.eta());
        d.put("clip", q.clip());
        d.put("shape", im.sampleShape());
        d.put("nonFinite", r.nonFiniteImages());
        d.put("queuedMs", r.queued().toMillis());
        d.put("elapsedMs", r.elapsed().toMillis());
        if (im.isImage()) {
            List<String> pngs = new ArrayList<>(im.count());
            Base64.Encoder b64 = Base64.getEncoder();
            for (int i = 0; i < im.count(); i++) pngs.add(b64.encodeToString(im.png(i)));
            d.put("images", pngs);
        } else {
            List<float[]> rows = new ArrayList<>(im.count());
            for (int i = 0; i < im.count(); i++) rows.add(im.image(i));
            d.put("samples", rows);
        }
        return d;
    }

    /** n over the server's limit (413). */
    private static final class TooLarge extends RuntimeException {
        TooLarge(String m) { super(m, null, false, false); }
    }

    /** A PNG asked of vector samples (406). */
    private static final class NotAcceptable extends RuntimeException {
        NotAcceptable(String m) { super(m, null, false, false); }
    }

    /** The request timed out and was cancelled (503). */
    private static final class TimedOut extends RuntimeException {
        TimedOut(String m) { super(m, null, false, false); }
    }
}
