package dev.sessionguard.agent;

import java.util.function.BooleanSupplier;

/**
 * Whether this JVM is writing a class-data archive: on JDK 24 and later an AOT cache's training run
 * ({@code -XX:AOTCacheOutput}, {@code -XX:AOTMode=record}) or its assembly ({@code -XX:AOTMode=create}), or a CDS
 * dump that was allowed agents. The agent stays off in such a JVM (docs/weaving.md, "AOT caches and CDS dumps").
 * A plain call of the JDK's internal {@code CDS.isDumpingArchive()}, linked in the same class loader of its own as
 * {@code BootDefiner9}, the one {@link BootstrapClasses} opened jdk.internal.misc to.
 */
public final class ArchiveDump9 implements BooleanSupplier {

    public ArchiveDump9() {
    }

    @Override
    public boolean getAsBoolean() {
        try {
            return dumping();
        } catch (LinkageError e) {
            // JDK 9 to 14 have no jdk.internal.misc.CDS, and no AOT cache either
            return false;
        }
    }

    private static boolean dumping() {
        return jdk.internal.misc.CDS.isDumpingArchive();
    }
}
