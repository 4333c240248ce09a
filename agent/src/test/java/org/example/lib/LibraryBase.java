package org.example.lib;

/** The superclass of ReferencesTest's stand-in library class: a method the advice calls is inherited from it. */
public class LibraryBase {
    public int inherited(String s) {
        return s.length();
    }
}
