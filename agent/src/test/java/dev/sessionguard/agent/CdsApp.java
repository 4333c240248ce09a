package dev.sessionguard.agent;

/** A small application whose own classes go into an AppCDS archive (AgentJarIT). */
public final class CdsApp {

    static final class Part {
        int value() {
            return 42;
        }
    }

    public static void main(String[] args) {
        System.out.println("part " + new Part().value() + " " + new java.util.TreeMap<String, String>().size());
    }
}
