package io.mforce.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mforce.testing.Processes;
import io.mforce.testing.Processes.Result;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tools/check_safetensors.py --pure} (standard library only) reads a tiny checkpoint of
 * mforce and verifies its checksum, and refuses a copy whose header was edited; a malformed
 * checksum, an error of the safetensors package, or a tensor the package reads differently from
 * the file's bytes ends in one "not valid" line, not a traceback.
 * Skipped where no {@code python3} is on the PATH.
 */
class PythonReadsCheckpointTest {
  private static final Path SCRIPT = Path.of("tools", "check_safetensors.py");
  private static final long TIMEOUT_SECONDS = 60;

  @Test
  void theScriptVerifiesACheckpointAndRefusesATamperedOne(@TempDir Path dir) throws Exception {
    assumeTrue(python(), "no python3 on the PATH");
    Path path = dir.resolve("tiny.safetensors");
    SampleCheckpoint.write("tiny", path);
    Result good = run(path);
    assertEquals(0, good.exitCode(), good.output());
    assertTrue(good.output().contains("model.video.patch_embed.weight") && good.output().contains("matches the metadata"),
        good.output());

    byte[] bytes = Files.readAllBytes(path);
    String head = new String(bytes, 0, 4096, StandardCharsets.ISO_8859_1);
    int at = head.indexOf("name\\\":\\\"tiny");  // name\":\"tiny: the config JSON is a string in the header
    assertTrue(at > 0, "the config's name in the header");
    bytes[at + "name\\\":\\\"".length()] = 'T';
    Path tampered = dir.resolve("tampered.safetensors");
    Files.write(tampered, bytes);
    Result bad = run(tampered);
    assertEquals(1, bad.exitCode(), bad.output());
    assertTrue(bad.output().contains("DOES NOT MATCH"), bad.output());
  }

  @Test
  void aNonHexChecksumIsOneClearLine(@TempDir Path dir) throws Exception {
    assumeTrue(python(), "no python3 on the PATH");
    String header = "{\"__metadata__\":{\"sha256\":\"" + "é".repeat(64)
        + "\"},\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    Path path = dir.resolve("odd.safetensors");
    Files.write(path, ByteBuffer.allocate(8 + json.length + 4).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(json.length).put(json).array());
    Result r = run(path, null, "--pure");
    assertEquals(1, r.exitCode(), r.output());
    assertTrue(r.output().contains(path + ": not valid: sha256 value") && !r.output().contains("Traceback"), r.output());
  }

  @Test
  void aSafetensorsPackageErrorIsOneClearLine(@TempDir Path dir) throws Exception {
    assumeTrue(python(), "no python3 on the PATH");
    Path path = dir.resolve("tiny.safetensors");
    SampleCheckpoint.write("tiny", path);
    // a stand-in package whose safe_open fails as the real one does on a file it cannot read
    Path packages = standInPackages(dir, "def safe_open(*args, **kwargs):\n    raise RuntimeError('header too large')\n");
    Result r = run(path, packages);
    assertEquals(1, r.exitCode(), r.output());
    assertTrue(r.output().contains(path + ": not valid: the safetensors package cannot read it: RuntimeError: header"
        + " too large") && !r.output().contains("Traceback"), r.output());
  }

  @Test
  void aPackageThatReadsOtherBytesThanTheFileHoldsIsRefused(@TempDir Path dir) throws Exception {
    assumeTrue(python(), "no python3 on the PATH");
    Path path = dir.resolve("tiny.safetensors");
    SampleCheckpoint.write("tiny", path);
    // a stand-in package that lists the file's tensors correctly but reads every one as zeros
    Path packages = standInPackages(dir, """
        import json, struct
        class _Slice:
            def __init__(self, info): self.info = info
            def get_dtype(self): return self.info["dtype"]
            def get_shape(self): return self.info["shape"]
        class _Zeros:
            def __init__(self, n): self.n = n
            def tobytes(self): return bytes(self.n)
        class _File:
            def __init__(self, path):
                with open(path, "rb") as f:
                    (n,) = struct.unpack("<Q", f.read(8))
                    self.header = json.loads(f.read(n))
                self.header.pop("__metadata__", None)
            def __enter__(self): return self
            def __exit__(self, *exc): return False
            def keys(self): return list(self.header)
            def get_slice(self, name): return _Slice(self.header[name])
            def get_tensor(self, name):
                begin, end = self.header[name]["data_offsets"]
                return _Zeros(end - begin)
        def safe_open(path, framework, device): return _File(path)
        """);
    Result r = run(path, packages);
    assertEquals(1, r.exitCode(), r.output());
    assertTrue(r.output().contains(path + ": not valid: tensor '") && r.output().contains("differs from the file's bytes")
        && !r.output().contains("Traceback"), r.output());
  }

  /**
   * A folder for PYTHONPATH with a stand-in {@code safetensors} package ({@code init}: its
   * __init__.py) and a {@code torch} that cannot be imported, so that the script takes the same
   * (numpy) path whether or not torch is installed.
   */
  private static Path standInPackages(Path dir, String init) throws IOException {
    Path root = dir.resolve("stand-ins");
    Files.writeString(Files.createDirectories(root.resolve("safetensors")).resolve("__init__.py"), init);
    Files.writeString(Files.createDirectories(root.resolve("torch")).resolve("__init__.py"),
        "raise ImportError('hidden by the test')\n");
    return root;
  }

  /** The script on {@code file} with --pure. */
  private static Result run(Path file) throws IOException {
    return run(file, null, "--pure");
  }

  /** Runs the script on {@code file} with {@code options}, and {@code pythonPath} (when not null) as PYTHONPATH. */
  private static Result run(Path file, Path pythonPath, String... options) throws IOException {
    List<String> command = new ArrayList<>(List.of("python3", SCRIPT.toString()));
    command.addAll(List.of(options));
    command.add(file.toString());
    return Processes.run(command, pythonPath == null ? Map.of() : Map.of("PYTHONPATH", pythonPath.toString()),
        TIMEOUT_SECONDS);
  }

  private static boolean python() {
    return Processes.available("python3", "--version");
  }
}
