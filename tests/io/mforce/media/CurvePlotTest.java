package io.mforce.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class CurvePlotTest {
  @Test
  void theMovingAverageSkipsWhatALogAxisCannotShow() {
    double[] y = {1, 3, Double.NaN, 5, -1, 7};
    assertArrayEquals(new double[] {2, 2, 4, 5, 6, 7}, CurvePlot.movingAverage(y, 3), 1e-12);
    assertArrayEquals(new double[] {1, 3, Double.NaN, 5, Double.NaN, 7}, CurvePlot.movingAverage(y, 1), 1e-12);
  }

  @Test
  void drawsEverySeriesInItsColour() {
    double[] x = {0, 1, 2, 3};
    BufferedImage img = CurvePlot.render("t", "step", x, List.of(new CurvePlot.Series("a", new double[] {4, 3, 2, 1}),
        new CurvePlot.Series("b", new double[] {Double.NaN, 0.5, 0.2, 0.1})), 1);
    assertEquals(900, img.getWidth());
    int blue = 0;
    int red = 0;
    for (int py = 0; py < img.getHeight(); py++) {
      for (int px = 0; px < img.getWidth(); px++) {
        int rgb = img.getRGB(px, py) & 0xFFFFFF;
        blue += rgb == 0x1f77b4 ? 1 : 0;
        red += rgb == 0xd62728 ? 1 : 0;
      }
    }
    assertTrue(blue > 100 && red > 100, "both lines drawn: " + blue + " and " + red + " pixels");
    assertNotEquals(0, img.getRGB(0, 0) & 0xFFFFFF, "white background");
  }

  @Test
  void badInputIsNamed() {
    String e = assertThrows(IllegalArgumentException.class, () -> CurvePlot.render("t", "x", new double[] {1, 2},
        List.of(new CurvePlot.Series("loss", new double[] {1})), 1)).getMessage();
    assertTrue(e.contains("'loss' has 1 points; expected 2"), e);
    assertThrows(IllegalArgumentException.class, () -> CurvePlot.render("t", "x", new double[0], List.of(), 1));
    assertThrows(IllegalArgumentException.class, () -> CurvePlot.render("t", "x", new double[] {1},
        List.of(new CurvePlot.Series("a", new double[] {1})), 0));
  }
}
