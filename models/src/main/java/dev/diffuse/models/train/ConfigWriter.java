package dev.diffuse.models.train;

import java.io.IOException;
import java.nio.file.Path;

/** Writes a model's config file(s) (diffusers' config.json) into a checkpoint folder while it is being assembled. */
@FunctionalInterface
public interface ConfigWriter {
    void write(Path folder) throws IOException;
}
