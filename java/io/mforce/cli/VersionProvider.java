package io.mforce.cli;

import io.mforce.runtime.Mforce;
import picocli.CommandLine.IVersionProvider;

/** {@code mforce --version}. */
final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    return new String[] {"mforce " + Mforce.version()};
  }
}
