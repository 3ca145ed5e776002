package dev.diffuse.server;

import java.time.Duration;

/**
 * What {@link DiffuseServer} listens on and what it accepts.
 * <pre>{@code
 * ServerConfig c = ServerConfig.defaults().withPort(0);   // an ephemeral port on 127.0.0.1
 * }</pre>
 *
 * @param host           the address to bind, e.g. "127.0.0.1" (the default: loopback only)
 * @param port           the port, e.g. 8080; 0 picks a free one ({@link DiffuseServer#port()})
 * @param maxImages      the most images one request may ask for (a larger n gets 413), e.g. 64
 * @param maxSteps       the most sampler steps one request may ask for (more gets 400), e.g. 250
 * @param requestTimeout how long a request may wait and run before it is cancelled (503), e.g. 120 s
 * @param retryAfter     the Retry-After a 429 or 503 answer carries, e.g. 1 s
 * @param maxBodyBytes   the largest request body accepted (larger gets 413), e.g. 16 KiB
 */
public record ServerConfig(String host, int port, int maxImages, int maxSteps, Duration requestTimeout, Duration retryAfter, long maxBodyBytes) {
    public ServerConfig {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("host must be an address, e.g. 127.0.0.1");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in 0..65535 (0: any free port), got " + port);
        if (maxImages < 1) throw new IllegalArgumentException("max images per request must be >= 1, got " + maxImages);
        if (maxSteps < 1) throw new IllegalArgumentException("max steps per request must be >= 1, got " + maxSteps);
        if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero())
            throw new IllegalArgumentException("request timeout must be positive, got " + requestTimeout);
        if (retryAfter == null || retryAfter.isNegative()) throw new IllegalArgumentException("retry-after must be >= 0, got " + retryAfter);
        if (maxBodyBytes < 256) throw new IllegalArgumentException("max body bytes must be >= 256, got " + maxBodyBytes);
    }

    /**
     * 127.0.0.1:8080, 64 images and 250 steps per request, 120 s timeout, Retry-After 1 s, 16 KiB bodies.
     * <pre>{@code
     * DiffuseServer s = DiffuseServer.start(pipeline, ServerConfig.defaults());
     * }</pre>
     */
    public static ServerConfig defaults() {
        return new ServerConfig("127.0.0.1", 8080, 64, 250, Duration.ofSeconds(120), Duration.ofSeconds(1), 16 << 10);
    }

    /** This config on another port, e.g. {@code withPort(0)}. */
    public ServerConfig withPort(int p) { return new ServerConfig(host, p, maxImages, maxSteps, requestTimeout, retryAfter, maxBodyBytes); }

    /** This config with other request limits, e.g. {@code withLimits(16, 50, Duration.ofSeconds(30))}. */
    public ServerConfig withLimits(int images, int steps, Duration timeout) {
        return new ServerConfig(host, port, images, steps, timeout, retryAfter, maxBodyBytes);
    }
}
