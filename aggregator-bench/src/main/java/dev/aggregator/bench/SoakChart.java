package dev.aggregator.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Draws a retention soak's samples (the CSV of aggregator-server/retention-soak.sh) as an SVG, one
 * panel per measure, and prints for each whether it is flat: the least-squares slope over the last
 * ten minutes, times ten minutes, as a share of its mean there.
 *
 * <pre>
 * java -cp aggregator-bench/target/benchmarks.jar dev.aggregator.bench.SoakChart \
 *     aggregator-bench/results/retention-soak.csv aggregator-bench/results/retention-soak.svg
 * </pre>
 */
public final class SoakChart {
  private SoakChart() {}

  private static final String[] COLUMNS = {
    "heap_used_after_gc_bytes", "rss_bytes", "db_bytes", "wal_bytes", "stored"
  };
  private static final String[] TITLES = {
    "heap used after a full GC (MB)",
    "RSS (MB)",
    "database file (MB)",
    "WAL file (MB)",
    "events stored"
  };
  private static final double[] SCALE = {1 << 20, 1 << 20, 1 << 20, 1 << 20, 1};

  public static void main(String[] args) throws Exception {
    List<String> lines = Files.readAllLines(Path.of(args[0]));
    List<String> header = List.of(lines.get(0).split(","));
    List<double[]> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      double[] r = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        r[i] = f[i].isEmpty() ? Double.NaN : Double.parseDouble(f[i]);
      }
      rows.add(r);
    }
    int t = header.indexOf("seconds");
    double end = rows.get(rows.size() - 1)[t];
    int w = 900;
    int panelH = 170;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"sans-serif\" font-size=\"12\">%n"
                + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n",
            w,
            COLUMNS.length * panelH + 40));
    for (int p = 0; p < COLUMNS.length; p++) {
      int c = header.indexOf(COLUMNS[p]);
      double max = 0;
      for (double[] r : rows) {
        max = Math.max(max, r[c] / SCALE[p]);
      }
      max = max == 0 ? 1 : max * 1.1;
      int top = 20 + p * panelH;
      int left = 80;
      int right = w - 20;
      int bottom = top + panelH - 40;
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>%n"
                  + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>%n"
                  + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>%n"
                  + "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f</text>%n"
                  + "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>%n"
                  + "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f min</text>%n",
              left,
              top + 10,
              TITLES[p],
              left,
              bottom,
              right,
              bottom,
              left,
              top + 15,
              left,
              bottom,
              left - 5,
              top + 20,
              max,
              left - 5,
              bottom,
              right,
              bottom + 15,
              end / 60));
      StringBuilder path = new StringBuilder();
      for (double[] r : rows) {
        double x = left + (right - left) * r[t] / end;
        double y = bottom - (bottom - top - 15) * (r[c] / SCALE[p]) / max;
        path.append(path.length() == 0 ? "M" : " L")
            .append(String.format(Locale.ROOT, "%.1f %.1f", x, y));
      }
      svg.append("<path d=\"").append(path).append("\" fill=\"none\" stroke=\"#1f77b4\"/>\n");
      double[] fit = lastTenMinutes(rows, t, c);
      String verdict =
          String.format(
              Locale.ROOT,
              "%s: mean %.1f over the last 10 min, slope %+.2f%% of it per 10 min",
              COLUMNS[p],
              fit[0] / SCALE[p],
              fit[1] * 100);
      System.out.println(verdict);
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" fill=\"#555\">last 10 min: slope %+.2f%% of its mean"
                  + " per 10 min</text>%n",
              left + 260,
              top + 10,
              fit[1] * 100));
    }
    svg.append("</svg>\n");
    Files.writeString(Path.of(args[1]), svg.toString());
  }

  /** The mean over the last ten minutes and the fitted change over ten minutes, relative to it. */
  private static double[] lastTenMinutes(List<double[]> rows, int t, int c) {
    double end = rows.get(rows.size() - 1)[t];
    double n = 0;
    double sx = 0;
    double sy = 0;
    double sxx = 0;
    double sxy = 0;
    for (double[] r : rows) {
      if (r[t] >= end - 600 && !Double.isNaN(r[c])) {
        n++;
        sx += r[t];
        sy += r[c];
        sxx += r[t] * r[t];
        sxy += r[t] * r[c];
      }
    }
    double mean = sy / n;
    double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx); // per second
    return new double[] {mean, mean == 0 ? 0 : slope * 600 / mean};
  }
}
