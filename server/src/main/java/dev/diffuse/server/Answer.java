package dev.diffuse.server;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;

/** Writing answers: JSON documents and one-line JSON errors ({@code {"error": "..."}}), with Retry-After where it helps. */
final class Answer {
    static final ObjectMapper JSON = new ObjectMapper();

    private Answer() {}

    static void json(ServerResponse res, Status status, Object doc) {
        byte[] body;
        try {
            body = (JSON.writeValueAsString(doc) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the answer as JSON: " + e.getOriginalMessage(), e);
        }
        res.status(status);
        res.headers().contentType(MediaTypes.APPLICATION_JSON);
        res.send(body);
    }

    /** An error answer: status and one line saying what was wrong and how to fix it; 429 and 503 carry Retry-After. */
    static void error(ServerResponse res, Status status, String message, long retryAfterSeconds) {
        if (status.code() == 429 || status.code() == 503) res.header(HeaderNames.RETRY_AFTER, Long.toString(Math.max(1, retryAfterSeconds)));
        json(res, status, Map.of("error", RequestJson.oneLine(message)));
    }
}
