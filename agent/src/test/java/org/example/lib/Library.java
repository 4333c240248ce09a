package org.example.lib;

/** A stand-in library class for ReferencesTest: its class file is served with and without some methods. */
public class Library extends LibraryBase {
    public void required() {
    }

    public void newer() {
    }
}
