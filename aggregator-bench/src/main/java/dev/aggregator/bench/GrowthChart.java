package dev.aggregator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Draws ingest throughput against events already stored, one line per system, from the JMH JSON of
 * {@link GrowthBenchmark}, as an SVG (log scale: the systems differ by orders of magnitude).
 *
 * <pre>
 * java -cp aggregator-bench/target/benchmarks.jar dev.aggregator.bench.GrowthChart \
 *     aggregator-bench/results/growth.json aggregator-bench/results/growth.svg
 * </pre>
 */
public final class GrowthChart {
  private GrowthChart() {}

  private static final String[] COLORS = {"#d62728", "#1f77b4", "#17becf", "#ff7f0e", "#7f7f7f"};

  public static void main(String[] args) throws Exception {
    JsonNode runs = new ObjectMapper().readTree(Path.of(args[0]).toFile());
    Map<String, TreeMap<Long, Double>> series = new TreeMap<>(GrowthChart::implOrder);
    for (JsonNode run : runs) {
      String impl = run.path("params").path("impl").asText();
      long stored = Long.parseLong(run.path("params").path("stored").asText());
      double score = run.path("primaryMetric").path("score").asDouble();
      series.computeIfAbsent(impl, k -> new TreeMap<>()).put(stored, score);
    }
    List<Long> xs = new ArrayList<>();
    series.values().forEach(s -> s.keySet().forEach(x -> addSorted(xs, x)));
    double min = Double.MAX_VALUE;
    double max = 0;
    for (TreeMap<Long, Double> s : series.values()) {
      for (double v : s.values()) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    double lo = Math.pow(10, Math.floor(Math.log10(min)));
    double hi = Math.pow(10, Math.ceil(Math.log10(max)));
    int w = 760;
    int h = 460;
    int left = 90;
    int right = 190;
    int top = 40;
    int bottom = 60;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"sans-serif\" font-size=\"12\">%n"
                + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n"
                + "<text x=\"%d\" y=\"22\" font-size=\"15\">Ingest throughput vs events already"
                + " stored (batches of 1,000, 20%% duplicates, NORMAL)</text>%n",
            w,
            h,
            left));
    double plotW = w - left - right;
    double plotH = h - top - bottom;
    for (double tick = lo; tick <= hi * 1.0001; tick *= 10) {
      double y = top + plotH - plotH * Math.log10(tick / lo) / Math.log10(hi / lo);
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                  + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
              left,
              y,
              left + plotW,
              y,
              left - 8,
              y + 4,
              human(tick)));
    }
    for (int i = 0; i < xs.size(); i++) {
      double x = xOf(i, xs.size(), left, plotW);
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                  + "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>%n",
              x,
              top,
              x,
              top + plotH,
              x,
              top + plotH + 20,
              human(xs.get(i))));
    }
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">events already stored</text>%n"
                + "<text x=\"18\" y=\"%.1f\" transform=\"rotate(-90 18 %.1f)\""
                + " text-anchor=\"middle\">events/s (log scale)</text>%n",
            left + plotW / 2,
            h - 15,
            top + plotH / 2,
            top + plotH / 2));
    int c = 0;
    for (Map.Entry<String, TreeMap<Long, Double>> s : series.entrySet()) {
      String color = COLORS[c % COLORS.length];
      StringBuilder points = new StringBuilder();
      for (Map.Entry<Long, Double> p : s.getValue().entrySet()) {
        double x = xOf(xs.indexOf(p.getKey()), xs.size(), left, plotW);
        double y = top + plotH - plotH * Math.log10(p.getValue() / lo) / Math.log10(hi / lo);
        points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        svg.append(
            String.format(
                Locale.ROOT,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>"
                    + "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" font-size=\"10\">%s</text>%n",
                x,
                y,
                color,
                x + 6,
                y - 6,
                color,
                human(p.getValue())));
      }
      svg.append(
          String.format(
              Locale.ROOT,
              "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>%n"
                  + "<rect x=\"%.1f\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>"
                  + "<text x=\"%.1f\" y=\"%d\">%s</text>%n",
              points.toString().trim(),
              color,
              left + plotW + 20,
              top + 20 * c + 4,
              color,
              left + plotW + 40,
              top + 20 * c + 10,
              label(s.getKey())));
      c++;
    }
    svg.append("</svg>\n");
    Files.writeString(Path.of(args[1]), svg);
  }

  private static int implOrder(String a, String b) {
    return Integer.compare(Impl.valueOf(a).ordinal(), Impl.valueOf(b).ordinal());
  }

  private static String label(String impl) {
    return switch (Impl.valueOf(impl)) {
      case aggregator -> "this design";
      case autocommit -> "(a) autocommit, defaults";
      case autocommit_wal -> "(a) autocommit, WAL";
      case camel -> "(b) Camel JDBC repo";
      case memory -> "(c) ConcurrentHashMap";
    };
  }

  private static void addSorted(List<Long> xs, long x) {
    if (!xs.contains(x)) {
      xs.add(x);
      xs.sort(null);
    }
  }

  private static double xOf(int i, int n, int left, double plotW) {
    return n == 1 ? left + plotW / 2 : left + 30 + (plotW - 60) * i / (n - 1);
  }

  private static String human(double v) {
    if (v == 0) {
      return "0";
    }
    if (v >= 1e6 && v % 1e6 == 0) {
      return String.format(Locale.ROOT, "%.0fM", v / 1e6);
    }
    if (v >= 1e3 && v < 1e6 && v % 1e3 == 0) {
      return String.format(Locale.ROOT, "%.0fk", v / 1e3);
    }
    if (v >= 1e6) {
      return String.format(Locale.ROOT, "%.3gM", v / 1e6);
    }
    if (v >= 1e3) {
      return String.format(Locale.ROOT, "%.3gk", v / 1e3);
    }
    return String.format(Locale.ROOT, "%.3g", v);
  }
}
