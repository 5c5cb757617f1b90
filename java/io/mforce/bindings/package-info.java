/**
 * JavaCPP bindings of the mforce C ABI ({@code native/include/mforce/*.h}): one small class per
 * header, each a list of static native methods with the C names. The javacpp Maven plugin
 * generates and compiles their JNI glue into {@code libjnimforce} (never edited by hand), which
 * links {@code libmforce_cpu}; both are packaged in the jar under {@code linux-x86_64/}.
 *
 * <p>Pointers cross as {@code long} addresses ({@code @Cast}): no Java object per call, so a
 * kernel call costs one JNI transition. Nothing here validates: {@code io.mforce.runtime} and
 * the layers above check every argument before calling in.
 */
package io.mforce.bindings;
