package dev.diffuse.server;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;

/** A small loopback HTTP client for the server tests, and the shipped model's folder (found from the root pom). */
final class Http {
    static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private Http() {}

    static HttpResponse<byte[]> post(DiffuseServer s, String body, String accept) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(URI.create(s.url() + "/v1/samples")).timeout(Duration.ofSeconds(120))
                .header("Accept", accept).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static HttpResponse<String> get(DiffuseServer s, String path) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(URI.create(s.url() + path)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(byte[] body) throws IOException { return Answer.JSON.readTree(body); }

    /** pretrained/fashion-mnist-small, found by walking up from the working folder to the project's root pom. */
    static Path shippedModel() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent())
            if (Files.isDirectory(p.resolve("pretrained/fashion-mnist-small")) && Files.isRegularFile(p.resolve("pom.xml")))
                return p.resolve("pretrained/fashion-mnist-small");
        throw new IllegalStateException("pretrained/fashion-mnist-small not found above " + Path.of("").toAbsolutePath());
    }
}
