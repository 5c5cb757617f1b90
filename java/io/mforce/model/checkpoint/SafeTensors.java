package io.mforce.model.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.mforce.runtime.AtomicFiles;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors file format (huggingface/safetensors), written and read exactly as its
 * specification says:
 * <ol>
 *   <li>8 bytes: N, the header size, an unsigned 64-bit little-endian integer;</li>
 *   <li>N bytes: a UTF-8 JSON object; each tensor's name maps to {@code {"dtype": "F32",
 *       "shape": [..], "data_offsets": [begin, end]}}, offsets in bytes relative to the data
 *       section; the optional {@code "__metadata__"} key maps to an object of strings. The
 *       writer pads the JSON with trailing spaces so that the data section starts at a
 *       multiple of 8 bytes;</li>
 *   <li>the data section: the tensors' bytes, little-endian, row-major, back to back without
 *       gaps, covering the section exactly.</li>
 * </ol>
 * On top of the format: the writer records in the metadata (key {@link #SHA256}) the SHA-256 of
 * the whole file — size prefix, header and data — as it is with that value's 64 hex digits
 * read as {@code '0'}s (the writer hashes the header with a zero placeholder, then patches the
 * digest in), so that a changed header (metadata, shapes, offsets) is detected like changed
 * data; and it replaces the target file atomically (temporary file in the same directory, fsync,
 * rename, fsync of the directory): a failed write leaves no partial file and the previous file
 * intact. {@code tools/check_safetensors.py} recomputes the same digest.
 */
public final class SafeTensors {
  /** Metadata key of the hex SHA-256 of the whole file with this value zeroed (see the class comment). */
  public static final String SHA256 = "sha256";
  private static final String METADATA = "__metadata__";
  private static final long MAX_HEADER = 100L << 20;
  private static final int CHUNK = 16 << 20;
  private static final Map<String, Integer> ELEMENT_BYTES = Map.ofEntries(Map.entry("BOOL", 1), Map.entry("U8", 1),
      Map.entry("I8", 1), Map.entry("F8_E5M2", 1), Map.entry("F8_E4M3", 1), Map.entry("I16", 2), Map.entry("U16", 2),
      Map.entry("F16", 2), Map.entry("BF16", 2), Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
      Map.entry("F64", 8), Map.entry("I64", 8), Map.entry("U64", 8));

  private SafeTensors() {}

  /** One tensor of a file: its dtype name, shape and byte range in the data section. */
  public record Entry(String name, String dtype, long[] shape, long begin, long end) {
    public long numel() {
      long n = 1;
      for (long s : shape) {
        n = Math.multiplyExact(n, s);
      }
      return n;
    }

    /** The mforce dtype, or an error naming the tensor when mforce has none for it. */
    public DType mforceDtype() {
      return switch (dtype) {
        case "F32" -> DType.F32;
        case "BF16" -> DType.BF16;
        case "I32" -> DType.I32;
        default -> throw new IllegalArgumentException("tensor '" + name + "' has dtype " + dtype
            + "; mforce reads F32, BF16 and I32");
      };
    }
  }

  /** The safetensors name of an mforce dtype. */
  static String dtypeName(DType dtype) {
    return switch (dtype) {
      case F32 -> "F32";
      case BF16 -> "BF16";
      case I32 -> "I32";
    };
  }

  // ------------------------------------------------------------------ writing

  /** Collects tensors and metadata, then writes them in one atomic file replacement. */
  public static final class Writer {
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds a tensor (contiguous, any device); its bytes are read at {@link #write} time. */
    public Writer tensor(String name, Tensor t) {
      Check.notNull(name, "name");
      Check.contiguous("safetensors.write", name, t);
      if (name.equals(METADATA) || tensors.containsKey(name)) {
        throw new IllegalArgumentException("safetensors.write: tensor name '" + name + "' is reserved or repeated");
      }
      tensors.put(name, t);
      return this;
    }

    public Writer metadata(String key, String value) {
      Check.notNull(key, "key");
      Check.notNull(value, "value");
      if (key.equals(SHA256)) {
        throw new IllegalArgumentException("safetensors.write: metadata key '" + SHA256 + "' is written by the writer");
      }
      metadata.put(key, value);
      return this;
    }

    /**
     * Writes the file: to a temporary file beside {@code path}, synced, then renamed over
     * {@code path}. On any failure the temporary file is deleted and {@code path} is untouched.
     */
    public void write(Path path) {
      AtomicFiles.write(path, this::writeTo);
    }

    private void writeTo(Path file) throws IOException {
      // header with a placeholder checksum of the final length, patched after the data
      JsonObject header = new JsonObject();
      JsonObject meta = new JsonObject();
      String placeholder = "0".repeat(64);
      meta.addProperty(SHA256, placeholder);
      metadata.forEach(meta::addProperty);
      header.add(METADATA, meta);
      long offset = 0;
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        Tensor t = e.getValue();
        JsonObject info = new JsonObject();
        info.addProperty("dtype", dtypeName(t.dtype()));
        JsonArray shape = new JsonArray();
        for (long s : t.shape()) {
          shape.add(s);
        }
        info.add("shape", shape);
        JsonArray offsets = new JsonArray();
        offsets.add(offset);
        offset += t.bytes();
        offsets.add(offset);
        info.add("data_offsets", offsets);
        header.add(e.getKey(), info);
      }
      byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
      int padded = (8 + json.length + 7) / 8 * 8 - 8;
      byte[] headerBytes = Arrays.copyOf(json, padded);
      Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
      int placeholderAt = indexOf(headerBytes, ("\"" + SHA256 + "\":\"" + placeholder + "\"")
          .getBytes(StandardCharsets.UTF_8), 0);
      if (placeholderAt < 0) {
        throw new IllegalStateException("checksum placeholder not found in the header");
      }
      int checksumAt = 8 + placeholderAt + SHA256.length() + 4;

      MessageDigest digest = sha256();
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).flip();
        digest.update(prefix.duplicate());
        digest.update(headerBytes);
        writeFully(ch, prefix);
        writeFully(ch, ByteBuffer.wrap(headerBytes));
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
          writeTensor(ch, e.getKey(), e.getValue(), digest);
        }
        byte[] hex = HexFormat.of().formatHex(digest.digest()).getBytes(StandardCharsets.US_ASCII);
        ch.write(ByteBuffer.wrap(hex), checksumAt);
      }
    }

    private static void writeTensor(FileChannel ch, String name, Tensor t, MessageDigest digest) throws IOException {
      Check.open("safetensors.write", name, t);
      long n = t.numel();
      if (n == 0) {
        return;
      }
      long perChunk = Math.max(1, CHUNK / t.dtype().bytes());
      try (Tensor flat = t.view(n)) {
        for (long start = 0; start < n; start += perChunk) {
          long count = Math.min(perChunk, n - start);
          try (Tensor piece = flat.narrow(0, start, count); Tensor host = piece.to(t.dtype(), Device.CPU)) {
            ByteBuffer bytes = host.hostBuffer();
            digest.update(bytes.duplicate());
            writeFully(ch, bytes);
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------ reading

  /**
   * An opened file: its validated header and the open file itself, from which the checksum and
   * tensors are read on demand. Holding the file open (not reopening the path) keeps header and
   * data from one file: should the path be replaced meanwhile (a training loop saving again while
   * another process loads), the reads still come from the file this header describes. Close it.
   */
  public static final class File implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final byte[] header;   // the raw header bytes (between the size prefix and the data)
    private final long dataStart;
    private final long dataBytes;
    private final Map<String, String> metadata;
    private final Map<String, Entry> entries;

    private File(Path path, FileChannel channel, byte[] header, long dataStart, long dataBytes,
                 Map<String, String> metadata, Map<String, Entry> entries) {
      this.path = path;
      this.channel = channel;
      this.header = header;
      this.dataStart = dataStart;
      this.dataBytes = dataBytes;
      this.metadata = metadata;
      this.entries = entries;
    }

    public Path path() {
      return path;
    }

    /** The {@code __metadata__} strings (empty when absent). */
    public Map<String, String> metadata() {
      return metadata;
    }

    /** The tensors in file order. */
    public Map<String, Entry> entries() {
      return entries;
    }

    public Entry entry(String name) {
      Entry e = entries.get(name);
      if (e == null) {
        throw new IllegalArgumentException(path + ": no tensor named '" + name + "'");
      }
      return e;
    }

    /**
     * Recomputes the SHA-256 of the whole file (its recorded value zeroed) and compares it with
     * the metadata's; throws {@link IllegalArgumentException} (file corrupt) on a mismatch or
     * when none is recorded.
     */
    public void verifyChecksum() {
      String recorded = metadata.get(SHA256);
      if (recorded == null) {
        throw new IllegalArgumentException(path + ": no '" + SHA256 + "' in the metadata, cannot verify the file");
      }
      byte[] quoted = ("\"" + recorded + "\"").getBytes(StandardCharsets.UTF_8);
      int at = indexOf(header, quoted, 0);
      if (recorded.length() != 64 || at < 0 || indexOf(header, quoted, at + 1) >= 0) {
        throw new IllegalArgumentException(path + " is corrupt: its '" + SHA256 + "' value '" + recorded
            + "' is not 64 hex digits found once in the header");
      }
      byte[] zeroed = header.clone();
      Arrays.fill(zeroed, at + 1, at + 1 + 64, (byte) '0');
      MessageDigest digest = sha256();
      digest.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip());
      digest.update(zeroed);
      try {
        ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
        for (long pos = 0; pos < dataBytes; ) {
          buffer.clear().limit((int) Math.min(CHUNK, dataBytes - pos));
          readFully(channel, buffer, dataStart + pos);
          buffer.flip();
          pos += buffer.remaining();
          digest.update(buffer);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + path, e);
      }
      String actual = HexFormat.of().formatHex(digest.digest());
      if (!actual.equals(recorded)) {
        throw new IllegalArgumentException(path + " is corrupt: the SHA-256 of its header and data is " + actual
            + " but its header records " + recorded);
      }
    }

    /**
     * Reads tensor {@code name} into {@code dst} (same shape; any device; F32/BF16 convert
     * into each other).
     */
    public void read(String name, Tensor dst) {
      Entry e = entry(name);
      Check.contiguous("safetensors.read", "dst", dst);
      if (!Arrays.equals(e.shape(), dst.shape())) {
        throw new IllegalArgumentException(path + ": tensor '" + name + "' has shape " + Arrays.toString(e.shape())
            + "; expected " + Arrays.toString(dst.shape()));
      }
      DType dtype = e.mforceDtype();
      if (dtype != dst.dtype() && !(dtype.isFloat() && dst.dtype().isFloat())) {
        throw new IllegalArgumentException(path + ": tensor '" + name + "' is " + dtype + "; it cannot be read into "
            + dst.describe());
      }
      long n = e.numel();
      if (n == 0) {
        return;
      }
      long perChunk = Math.max(1, CHUNK / dtype.bytes());
      try (Tensor flat = dst.view(n)) {
        for (long start = 0; start < n; start += perChunk) {
          long count = Math.min(perChunk, n - start);
          try (Tensor host = Tensor.empty(dtype, Device.CPU, count); Tensor piece = flat.narrow(0, start, count)) {
            readFully(channel, host.hostBuffer(), dataStart + e.begin() + start * dtype.bytes());
            piece.copyFrom(host);
          }
        }
      } catch (IOException ex) {
        throw new UncheckedIOException("cannot read " + path, ex);
      }
    }

    /** Closes the file; reading it afterwards fails. */
    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot close " + path, e);
      }
    }
  }

  /**
   * Opens {@code path} and validates its header against the format (clear errors otherwise). The
   * file stays open until the returned {@link File} is closed.
   */
  public static File open(Path path) {
    FileChannel ch;
    try {
      ch = FileChannel.open(path, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
    try {
      return readHeader(path, ch);
    } catch (RuntimeException | Error e) {
      try {
        ch.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private static File readHeader(Path path, FileChannel ch) {
    try {
      long size = ch.size();
      if (size < 8) {
        throw bad(path, "file of " + size + " bytes is shorter than the 8-byte header size");
      }
      ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, prefix, 0);
      long n = prefix.flip().getLong();
      if (n < 2 || n > MAX_HEADER || 8 + n > size) {
        throw bad(path, "header size " + Long.toUnsignedString(n) + " is impossible for a file of " + size + " bytes");
      }
      ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
      readFully(ch, headerBytes, 8);
      String text = StandardCharsets.UTF_8.newDecoder().decode(headerBytes.flip()).toString();
      return parse(path, ch, headerBytes.array(), text, 8 + n, size - 8 - n);
    } catch (java.nio.charset.CharacterCodingException e) {
      throw bad(path, "header is not UTF-8");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
  }

  private static File parse(Path path, FileChannel channel, byte[] raw, String text, long dataStart,
                            long dataBytes) {
    JsonObject header;
    try {
      JsonElement root = JsonParser.parseString(text);
      if (!root.isJsonObject()) {
        throw bad(path, "header is not a JSON object");
      }
      header = root.getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      throw bad(path, "header is not valid JSON (" + e.getMessage() + ")");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> list = new ArrayList<>();
    for (Map.Entry<String, JsonElement> kv : header.entrySet()) {
      String key = kv.getKey();
      JsonElement v = kv.getValue();
      if (key.equals(METADATA)) {
        if (!v.isJsonObject()) {
          throw bad(path, "__metadata__ is not an object");
        }
        for (Map.Entry<String, JsonElement> m : v.getAsJsonObject().entrySet()) {
          if (!m.getValue().isJsonPrimitive() || !m.getValue().getAsJsonPrimitive().isString()) {
            throw bad(path, "__metadata__ value of '" + m.getKey() + "' is not a string");
          }
          metadata.put(m.getKey(), m.getValue().getAsString());
        }
        continue;
      }
      list.add(entry(path, key, v));
    }
    List<Entry> byOffset = new ArrayList<>(list);
    byOffset.sort((a, b) -> Long.compare(a.begin(), b.begin()));
    long expected = 0;
    for (Entry e : byOffset) {
      if (e.begin() != expected) {
        throw bad(path, "tensor '" + e.name() + "' starts at byte " + e.begin() + " of the data; expected "
            + expected + " (tensors must cover the data back to back)");
      }
      expected = e.end();
    }
    if (expected != dataBytes) {
      throw bad(path, "the tensors cover " + expected + " bytes but the data section has " + dataBytes);
    }
    Map<String, Entry> entries = new LinkedHashMap<>();
    for (Entry e : list) {
      entries.put(e.name(), e);
    }
    return new File(path, channel, raw, dataStart, dataBytes, Collections.unmodifiableMap(metadata),
        Collections.unmodifiableMap(entries));
  }

  private static Entry entry(Path path, String name, JsonElement v) {
    try {
      JsonObject o = v.getAsJsonObject();
      String dtype = o.get("dtype").getAsString();
      Integer size = ELEMENT_BYTES.get(dtype);
      if (size == null) {
        throw bad(path, "tensor '" + name + "' has unknown dtype '" + dtype + "'");
      }
      JsonArray shapeJson = o.get("shape").getAsJsonArray();
      long[] shape = new long[shapeJson.size()];
      long numel = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = integer(shapeJson.get(i));
        if (shape[i] < 0) {
          throw bad(path, "tensor '" + name + "' has a negative dimension");
        }
        numel = Math.multiplyExact(numel, shape[i]);
      }
      JsonArray offsets = o.get("data_offsets").getAsJsonArray();
      if (offsets.size() != 2) {
        throw bad(path, "tensor '" + name + "': data_offsets must be [begin, end]");
      }
      long begin = integer(offsets.get(0));
      long end = integer(offsets.get(1));
      if (begin < 0 || end < begin || end - begin != Math.multiplyExact(numel, (long) size)) {
        throw bad(path, "tensor '" + name + "': data_offsets [" + begin + ", " + end + "] do not hold "
            + numel + " elements of " + dtype);
      }
      return new Entry(name, dtype, shape, begin, end);
    } catch (IllegalStateException | NullPointerException | UnsupportedOperationException | NumberFormatException
             | ArithmeticException e) {
      throw bad(path, "tensor '" + name + "' has a malformed entry (" + e.getMessage() + ")");
    }
  }

  /**
   * A JSON number that is an integer of the long range (the format's u64 values, as mforce
   * addresses them; a checkpoint's optimizer step), exactly: Gson's getAsLong would read 2.5 as
   * 2, 2^64 + 2 as 2 and "2" as 2.
   */
  static long integer(JsonElement v) {
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
      throw new IllegalStateException(v + " is not a number");
    }
    try {
      return v.getAsBigDecimal().longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalStateException(v + " is not an integer of at most 63 bits");
    }
  }

  // ------------------------------------------------------------------ io helpers

  private static IllegalArgumentException bad(Path path, String what) {
    return new IllegalArgumentException(path + " is not a valid safetensors file: " + what);
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
    long pos = position;
    while (b.hasRemaining()) {
      int r = ch.read(b, pos);
      if (r < 0) {
        throw new IOException("unexpected end of file at byte " + pos);
      }
      pos += r;
    }
  }

  /** The first index >= from where needle occurs in haystack, or -1. */
  private static int indexOf(byte[] haystack, byte[] needle, int from) {
    outer:
    for (int i = from; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

}
