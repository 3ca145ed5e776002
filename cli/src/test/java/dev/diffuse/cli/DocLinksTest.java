package dev.diffuse.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The README and docs/ link only to files a clone has: every relative Markdown link resolves inside the project, and
 * nothing points at ../shared (the team's notes beside the repository, which users do not get).
 */
class DocLinksTest {
    static final Pattern LINK = Pattern.compile("\\]\\(([^)#\\s]+)(#[^)]*)?\\)");

    @Test
    void everyRelativeLinkResolvesInsideTheProject() throws Exception {
        Path root = RobustnessDocTest.projectRoot().toRealPath();
        List<Path> pages = new ArrayList<>(List.of(root.resolve("README.md")));
        try (var s = Files.list(root.resolve("docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        List<String> bad = new ArrayList<>();
        for (Path page : pages) {
            String text = Files.readString(page);
            if (text.contains("../shared")) bad.add(root.relativize(page) + " mentions ../shared");
            Matcher m = LINK.matcher(text);
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("^[a-z]+:.*")) continue; // http:, https:, mailto:
                Path resolved = page.getParent().resolve(target).normalize();
                if (!resolved.startsWith(root) || !Files.exists(resolved)) bad.add(root.relativize(page) + " links to " + target);
            }
        }
        assertTrue(bad.isEmpty(), String.join("\n", bad));
    }
}
