package dev.sessionguard.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/** The Markdown tables under target/ that say what each scenario did without and with the agent. */
public final class Matrix {

    private static final Set<String> STARTED = new HashSet<>();

    private Matrix() {
    }

    /** Appends one row; the first row of a test run starts the file anew under its header. */
    public static synchronized void row(String file, String header, String... cells) throws IOException {
        Path path = Fork.OUT.getParent().resolve(file);
        if (STARTED.add(file)) {
            StringBuilder h = new StringBuilder("|");
            StringBuilder line = new StringBuilder("|");
            for (String c : header.split("\\|")) {
                h.append(' ').append(c.trim()).append(" |");
                line.append("---|");
            }
            Files.write(path, (h + "\n" + line + "\n").getBytes(StandardCharsets.UTF_8));
        }
        StringBuilder r = new StringBuilder("|");
        for (String c : cells) {
            r.append(' ').append(c.replace("|", "/").replace("\n", " ")).append(" |");
        }
        Files.write(path, (r + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
    }
}
