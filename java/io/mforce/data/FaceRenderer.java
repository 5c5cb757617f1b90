package io.mforce.data;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;

/**
 * Draws the cartoon face with Java2D (headless, antialiased) at any square size. Geometry in
 * units of the face size ({@code fw}, {@code fh} = identity face width and height times the
 * frame size), centred at (0.5, 0.55) of the frame plus the head sway:
 * eyes at ±0.2 fw, −0.1 fh; mouth at +0.25 fh, at most 0.42 fw wide and 0.24 fh high; hair
 * behind and above the head. The mouth interior is {@link Palette#MOUTH_INTERIOR}; a closed
 * mouth is a lip line in darkened skin colour.
 */
final class FaceRenderer {
  static final double MOUTH_Y = 0.25;
  static final double MOUTH_MAX_WIDTH = 0.42;
  static final double MOUTH_MAX_HEIGHT = 0.24;

  /** The head's position at one instant: offsets in frame fractions, tilt in radians. */
  record Pose(double dx, double dy, double tilt) {}

  private final Identity identity;
  private final int size;
  private final BufferedImage image;
  private final int[] pixels;

  FaceRenderer(Identity identity, int size) {
    this.identity = identity;
    this.size = size;
    this.image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    this.pixels = new int[size * size];
  }

  /** The head sway of {@code identity} at time {@code t} seconds. */
  static Pose pose(Identity identity, double t) {
    double a = identity.motionAmplitude();
    double w = 2 * Math.PI * identity.motionHz();
    double phase = identity.motionPhase();
    double tilt = Math.toRadians(2 + 2 * identity.motionClass()) * Math.sin(0.8 * w * t + 0.5 * phase);
    return new Pose(a * Math.sin(w * t + phase), 0.6 * a * Math.sin(1.3 * w * t + 2 * phase), tilt);
  }

  /**
   * Draws one frame into {@code out} at {@code offset} as RGB bytes.
   *
   * @param open mouth opening 0..1
   * @param mouthWidth mouth width 0..1
   * @param eyesOpen eye opening 0..1 (blinks)
   */
  void render(Pose pose, double open, double mouthWidth, double eyesOpen, byte[] out, int offset) {
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
      g.setColor(new Color(Palette.BACKGROUND[identity.background()]));
      g.fillRect(0, 0, size, size);
      double cx = size * (0.5 + pose.dx());
      double cy = size * (0.55 + pose.dy());
      double fw = size * identity.faceWidth();
      double fh = size * identity.faceHeight();
      g.rotate(pose.tilt(), cx, cy);
      drawHairBehind(g, cx, cy, fw, fh);
      int skin = Palette.SKIN[identity.skin()];
      g.setColor(new Color(skin));
      fillEllipse(g, cx, cy, fw, fh);
      drawFringe(g, cx, cy, fw, fh);
      drawEyes(g, cx, cy, fw, fh, eyesOpen, darken(skin));
      drawMouth(g, cx, cy + MOUTH_Y * fh, fw, fh, open, mouthWidth, darken(skin));
    } finally {
      g.dispose();
    }
    image.getRGB(0, 0, size, size, pixels, 0, size);
    for (int i = 0; i < pixels.length; i++) {
      int p = pixels[i];
      out[offset + 3 * i] = (byte) (p >> 16);
      out[offset + 3 * i + 1] = (byte) (p >> 8);
      out[offset + 3 * i + 2] = (byte) p;
    }
  }

  private void drawHairBehind(Graphics2D g, double cx, double cy, double fw, double fh) {
    g.setColor(new Color(Palette.HAIR[identity.hairColour()]));
    switch (identity.hairStyle()) {
      case 0 -> fillEllipse(g, cx, cy - 0.10 * fh, 1.10 * fw, 0.95 * fh);
      case 1 -> fillEllipse(g, cx, cy - 0.25 * fh, 1.05 * fw, 1.05 * fh);
      default -> {
        fillEllipse(g, cx - 0.48 * fw, cy - 0.08 * fh, 0.24 * fw, 0.45 * fh);
        fillEllipse(g, cx + 0.48 * fw, cy - 0.08 * fh, 0.24 * fw, 0.45 * fh);
      }
    }
  }

  private void drawFringe(Graphics2D g, double cx, double cy, double fw, double fh) {
    if (identity.hairStyle() == 2) {
      return;
    }
    g.setColor(new Color(Palette.HAIR[identity.hairColour()]));
    fillEllipse(g, cx, cy - 0.42 * fh, 0.92 * fw, 0.30 * fh);
  }

  private void drawEyes(Graphics2D g, double cx, double cy, double fw, double fh, double eyesOpen, int lid) {
    for (int side = -1; side <= 1; side += 2) {
      double ex = cx + side * 0.2 * fw;
      double ey = cy - 0.1 * fh;
      if (eyesOpen < 0.15) {
        g.setColor(new Color(lid));
        g.setStroke(new BasicStroke((float) Math.max(0.5, 0.02 * fh)));
        g.draw(new Line2D.Double(ex - 0.1 * fw, ey, ex + 0.1 * fw, ey));
        continue;
      }
      g.setColor(new Color(Palette.EYE_WHITE));
      fillEllipse(g, ex, ey, 0.2 * fw, 0.14 * fh * eyesOpen);
      g.setColor(new Color(Palette.EYES[identity.eyeColour()]));
      fillEllipse(g, ex, ey, 0.1 * fw, Math.min(0.1 * fw, 0.14 * fh * eyesOpen));
      g.setColor(new Color(Palette.PUPIL));
      fillEllipse(g, ex, ey, 0.05 * fw, Math.min(0.05 * fw, 0.14 * fh * eyesOpen));
    }
  }

  private static void drawMouth(Graphics2D g, double mx, double my, double fw, double fh, double open, double width,
      int lip) {
    double w = MOUTH_MAX_WIDTH * fw * width;
    g.setColor(new Color(lip));
    g.setStroke(new BasicStroke((float) Math.max(0.5, 0.02 * fh)));
    g.draw(new Line2D.Double(mx - 0.5 * w, my, mx + 0.5 * w, my));
    if (open > 0) {
      g.setColor(new Color(Palette.MOUTH_INTERIOR));
      fillEllipse(g, mx, my, w, MOUTH_MAX_HEIGHT * fh * open);
    }
  }

  private static void fillEllipse(Graphics2D g, double cx, double cy, double w, double h) {
    g.fill(new Ellipse2D.Double(cx - 0.5 * w, cy - 0.5 * h, w, h));
  }

  /** The skin colour at 75% brightness: eyelids and the lip line. */
  private static int darken(int rgb) {
    int r = (int) (Palette.channel(rgb, 0) * 0.75);
    int gr = (int) (Palette.channel(rgb, 1) * 0.75);
    int b = (int) (Palette.channel(rgb, 2) * 0.75);
    return (r << 16) | (gr << 8) | b;
  }
}
